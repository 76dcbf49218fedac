"""An event as the hub read it: decoded once, and serialised at most once for every client."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import orjson

from api.live import messages
from api.live.cursor import encode_cursor
from events.envelope import Event
from events.position import Position


class Arrival:
    """One stream entry on its way to the subscriptions of its stream.

    The hub makes one per entry and hands the same object to every subscriber, so
    a thousand clients of one symbol cost one decode and one serialisation, not a
    thousand; an event nobody's topic accepts is never serialised at all. Clients of
    a topic of this one stream (a symbol's prices) even share the whole message.
    """

    def __init__(self, stream: str, stream_json: str, position: Position, event: Event) -> None:
        self.stream = stream
        self.stream_json = stream_json
        self.position = position
        self.position_text = str(position)
        self.event = event
        self._shared: dict[str, str] = {}

    @cached_property
    def event_json(self) -> str:
        """The envelope as JSON, the shape `events.codec.to_json_object` gives."""
        return self.event.model_dump_json()

    def message(self, topic_json: str, cursor: Mapping[str, Position]) -> str:
        """The event message of a subscription whose cursor this event moves to `cursor`.

        A cursor of one stream is this event's position whoever receives it, so the
        message of a single-stream topic is built once and shared by its subscribers.
        """
        if len(cursor) > 1:
            return self._build(topic_json, cursor)
        shared = self._shared.get(topic_json)
        if shared is None:
            shared = self._shared[topic_json] = self._build(topic_json, cursor)
        return shared

    def _build(self, topic_json: str, cursor: Mapping[str, Position]) -> str:
        return messages.event(
            topic_json, self.stream_json, self.position_text, encode_cursor(cursor), self.event_json
        )


def json_string(text: str) -> str:
    """`text` as a JSON string literal, for splicing into a message."""
    return orjson.dumps(text).decode()
