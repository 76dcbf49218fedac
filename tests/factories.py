"""Test data in one place: payload types the tests register, and event factories."""

from __future__ import annotations

from typing import Any

from events.envelope import Event, Payload
from events.registry import event_type, upcaster


@event_type("test.ping")
class Pinged(Payload):
    """A test input: a number and some text."""

    n: int
    text: str = ""


@event_type("test.pong")
class Ponged(Payload):
    """A test output: the number it answers."""

    n: int


@event_type("test.reading", version=3)
class ReadingTaken(Payload):
    """A payload with history: v1 had `value`, v2 renamed it `celsius`, v3 added `unit`."""

    celsius: float
    unit: str


@upcaster("test.reading", from_version=1)
def _reading_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"celsius": data["value"]}


@upcaster("test.reading", from_version=2)
def _reading_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "unit": "C"}


def ping(n: int = 1, *, key: str | None = None, text: str = "", **envelope: Any) -> Event:
    """A `test.ping` event keyed by its number unless a key is given."""
    return Event(payload=Pinged(n=n, text=text), key=key or f"k{n}", **envelope)


def number(event: Event) -> int:
    """The number a `test.ping` or `test.pong` event carries."""
    assert isinstance(event.payload, Pinged | Ponged), event.type
    return event.payload.n
