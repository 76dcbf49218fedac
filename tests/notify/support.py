"""Test data and instruments for notify: alerts, a movable clock, recorded sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from events.catalog import AlertTriggered, Severity
from events.envelope import Event
from notify.rendering import Notice

TRICKY_MESSAGE = "BTC <b>crossed</b> 100k & @everyone *now*"
"""Markup in every channel's syntax: it must arrive escaped, never formatted or pinging."""


def alert(
    user_id: UUID,
    *,
    channels: tuple[str, ...] = (),
    severity: Severity = "warning",
    message: str = TRICKY_MESSAGE,
    values: dict[str, Any] | None = None,
) -> Event:
    payload = AlertTriggered(
        rule_id=uuid4(),
        user_id=user_id,
        subject="BTC/USDT",
        condition="crosses_up",
        severity=severity,
        message=message,
        values={"price": 100012.5, "threshold": 100000} if values is None else values,
        trigger_event_id=uuid4(),
        triggered_at=datetime(2025, 1, 1, tzinfo=UTC),
        channels=channels,
    )
    return Event(payload=payload, key=payload.partition_key())


def notice(**fields: Any) -> Notice:
    event = alert(uuid4(), **fields)
    assert isinstance(event.payload, AlertTriggered)
    return Notice(event.event_id, event.payload)


class FakeClock:
    """A clock that stands still until moved."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def timestamp(self) -> float:
        return self.now.timestamp()


class Sleeps:
    """An injected sleep that records how long it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
