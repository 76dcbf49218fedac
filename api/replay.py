"""Reading the log for people (the admin API): lenient, filtered, paged and bounded.

Debugging by replay must never refuse to show part of the log, so decoding is lenient:
a type this process does not know keeps its payload as stored, and an entry that is
not in our format at all comes back field by field with the reason. Scans filter on
the raw fields before decoding, and a scan can be given a budget of entries to examine,
so an admin request never walks a whole history unasked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, Field, ValidationError, field_validator

from events.codec import CORRELATION_ID, KEY, TYPE, decode
from events.errors import ImpressoxError, InvalidEventError, UpcastError
from events.position import Position
from events.redis_client import Entry, Fields, RedisClient, entries
from events.registry import PayloadRegistry

MAX_HALF = 2**64 - 1
"""The largest half of a stream position."""
SCAN_PAGE = 500


class InvalidCursorError(ImpressoxError):
    """A cursor this API did not give out."""


class EventOut(BaseModel):
    """A stored event; fields it could not be decoded from are null."""

    stream: str
    position: str
    appended_at: datetime = Field(description="When Redis appended it (its position's time).")
    event_id: UUID | None
    type: str | None
    schema_version: int | None
    key: str | None
    version: int | None
    occurred_at: datetime | None
    causation_id: UUID | None
    correlation_id: UUID | None
    payload: dict[str, Any]
    undecodable: str | None = Field(
        None, description="Why the entry could not be decoded; `payload.fields` holds it raw."
    )


def event_out(registry: PayloadRegistry, stream: str, entry: Entry) -> EventOut:
    """An entry as people read it, whatever it holds."""
    entry_id, fields = entry
    position = Position.parse(entry_id)
    common: dict[str, Any] = {
        "stream": stream,
        "position": str(position),
        "appended_at": position.time,
    }
    try:
        event = decode(fields, registry, strict=False)
    except (InvalidEventError, UpcastError) as error:
        raw = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
        unknown = ("event_id", "schema_version", "key", "version", "occurred_at", "causation_id")
        return EventOut(
            **common,
            **dict.fromkeys(unknown),
            type=raw.get("type"),
            correlation_id=None,
            payload={"fields": raw},
            undecodable=str(error),
        )
    return EventOut(
        **common,
        **event.model_dump(exclude={"payload"}),
        payload=event.payload.model_dump(mode="json"),
    )


Match = Callable[[Fields], bool]


def matcher(types: list[str] | None, correlation_id: UUID | None, key: str | None = None) -> Match:
    """A filter on an entry's raw fields (no decoding): its type, correlation id and key."""
    wanted_types = {name.encode() for name in types} if types else None
    wanted_correlation = str(correlation_id).encode() if correlation_id else None
    wanted_key = key.encode() if key is not None else None

    def match(fields: Fields) -> bool:
        if wanted_types is not None and fields.get(TYPE) not in wanted_types:
            return False
        if wanted_key is not None and fields.get(KEY) != wanted_key:
            return False
        return wanted_correlation is None or fields.get(CORRELATION_ID) == wanted_correlation

    return match


async def scan(
    redis: RedisClient,
    stream: str,
    low: str,
    high: str,
    *,
    reverse: bool,
    match: Match,
    limit: int,
    budget: int | None = None,
) -> tuple[list[Entry], bool]:
    """Up to `limit` matching entries between `low` and `high` (Redis range syntax),
    examining at most `budget` entries: (entries, whether the budget ran out first)."""
    found: list[Entry] = []
    examined = 0
    while len(found) < limit:
        count = SCAN_PAGE if budget is None else min(SCAN_PAGE, budget - examined)
        if count <= 0:
            return found, True
        if reverse:
            page = entries(await redis.xrevrange(stream, high, low, count=count))
        else:
            page = entries(await redis.xrange(stream, low, high, count=count))
        examined += len(page)
        found += [entry for entry in page if match(entry[1])]
        if len(page) < count:
            break
        last = "(" + page[-1][0].decode()
        high, low = (last, low) if reverse else (high, last)
    return found[:limit], False


def time_bound(moment: datetime | None, *, upper: bool) -> Position | None:
    """The first (or, as an upper bound, last) position a stream could hold at `moment`."""
    if moment is None:
        return None
    ms = max(0, int(moment.timestamp() * 1000))
    return Position(ms, MAX_HALF if upper else 0)


class PageCursor(BaseModel):
    """Where a page of a merged read stopped: the last position and its stream's index."""

    position: str
    index: int = Field(ge=0)

    @field_validator("position")
    @classmethod
    def _inside(cls, value: str) -> str:
        position = Position.parse(value)
        if not Position(0, 0) < position < Position(MAX_HALF, MAX_HALF):
            raise ValueError("out of range")
        return value

    def encode(self) -> str:
        return base64.urlsafe_b64encode(self.model_dump_json().encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str) -> PageCursor:
        try:
            data = base64.urlsafe_b64decode((raw + "=" * (-len(raw) % 4)).encode())
            return cls.model_validate(orjson.loads(data))
        except (ValueError, binascii.Error, ValidationError):
            raise InvalidCursorError("invalid cursor: pass back a next_cursor unchanged") from None


async def merged_page(
    redis: RedisClient,
    registry: PayloadRegistry,
    streams: list[str],
    *,
    low: Position | None,
    high: Position | None,
    reverse: bool,
    match: Match,
    limit: int,
    after: PageCursor | None,
) -> tuple[list[EventOut], PageCursor | None]:
    """One page of the streams' matching events merged by position (ties: stream order),
    and the cursor of the next page. Each stream gives at most a page's worth."""
    sign = -1 if reverse else 1
    found: list[tuple[tuple[int, int, int], Entry, str]] = []
    for index, stream in enumerate(streams):
        lower, upper = _bounds(low, high, after, index, reverse)
        page, _ = await scan(
            redis, stream, lower, upper, reverse=reverse, match=match, limit=limit + 1
        )
        for entry in page:
            position = Position.parse(entry[0])
            found.append(((sign * position.ms, sign * position.seq, index), entry, stream))
    found.sort(key=lambda item: item[0])
    items = [event_out(registry, stream, entry) for _, entry, stream in found[:limit]]
    if len(found) <= limit:
        return items, None
    return items, PageCursor(position=items[-1].position, index=found[limit - 1][0][2])


def _bounds(
    low: Position | None, high: Position | None, after: PageCursor | None, index: int, reverse: bool
) -> tuple[str, str]:
    """The Redis range of stream number `index`, for the page after `after`."""
    low_text, high_text = str(low) if low else "-", str(high) if high else "+"
    if after is None:
        return low_text, high_text
    exclusive = "(" if index <= after.index else ""
    if reverse:
        return low_text, exclusive + after.position
    return exclusive + after.position, high_text


async def correlated(
    redis: RedisClient,
    registry: PayloadRegistry,
    streams: list[str],
    correlation_id: UUID,
    *,
    low: Position | None,
    high: Position | None,
    budget: int,
    limit: int,
) -> tuple[list[EventOut], bool]:
    """The events of one causal chain in `streams`, oldest first, each stream scanned
    newest first for at most `budget` entries: (events, whether anything was cut off)."""
    match = matcher(None, correlation_id)
    found: list[EventOut] = []
    truncated = False
    for stream in streams:
        page, ran_out = await scan(
            redis,
            stream,
            str(low) if low else "-",
            str(high) if high else "+",
            reverse=True,
            match=match,
            limit=limit + 1,
            budget=budget,
        )
        truncated |= ran_out
        found += [event_out(registry, stream, entry) for entry in page]
    found.sort(key=_chain_order)
    return found[:limit], truncated or len(found) > limit


def _chain_order(event: EventOut) -> tuple[int, datetime, int, str]:
    """Time order across streams. Positions of different streams appended in one
    millisecond do not say which came first; when the event was made does (a cause is
    made before its effects), then the position within its own stream."""
    position = Position.parse(event.position)
    made = event.occurred_at or event.appended_at
    return position.ms, made, position.seq, event.stream
