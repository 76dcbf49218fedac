"""Resume cursors: the last position a client received, per stream of one topic.

A cursor is opaque to clients: base64url of a small JSON object mapping stream names to
positions. Every event message carries the cursor as of that event, so a client that
keeps the last one it saw can resume after a disconnect with nothing lost or repeated.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

import orjson

from api.live.errors import InvalidCursorError
from events.position import Position

MAX_CURSOR_CHARS = 4096
"""Far more than a topic over 1,024 partitions needs; longer input is refused unread."""


def encode_cursor(positions: Mapping[str, Position]) -> str:
    """The cursor of these per-stream positions."""
    raw = orjson.dumps({stream: str(position) for stream, position in positions.items()})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, streams: frozenset[str]) -> dict[str, Position]:
    """The positions a cursor holds; refuses a cursor naming a stream not in `streams`."""
    positions = cursor_positions(cursor)
    foreign = sorted(set(positions) - streams)
    if foreign:
        raise InvalidCursorError(
            f"the cursor belongs to another topic (it names stream {foreign[0]!r});"
            " subscribe without a cursor to start from now"
        )
    return positions


def cursor_positions(cursor: str) -> dict[str, Position]:
    """The positions a cursor holds, whatever its streams."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursorError(f"invalid cursor: longer than {MAX_CURSOR_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        return {str(stream): Position.parse(str(value)) for stream, value in data.items()}
    except (ValueError, binascii.Error, AttributeError, orjson.JSONDecodeError):
        raise InvalidCursorError(
            "invalid cursor: pass back a cursor this server sent, unchanged"
        ) from None
