"""An event as the hub read it: decoded once, and serialised at most once for every client."""

from __future__ import annotations

from functools import cached_property

import orjson

from events.envelope import Event
from events.position import Position


class Arrival:
    """One stream entry on its way to the subscriptions of its stream.

    The hub makes one per entry and hands the same object to every subscriber, so
    a thousand clients of one symbol cost one decode and one serialisation, not a
    thousand; an event nobody's topic accepts is never serialised at all.
    """

    def __init__(self, stream: str, stream_json: str, position: Position, event: Event) -> None:
        self.stream = stream
        self.stream_json = stream_json
        self.position = position
        self.position_text = str(position)
        self.event = event

    @cached_property
    def event_json(self) -> str:
        """The envelope as JSON, the shape `events.codec.to_json_object` gives."""
        return self.event.model_dump_json()


def json_string(text: str) -> str:
    """`text` as a JSON string literal, for splicing into a message."""
    return orjson.dumps(text).decode()
