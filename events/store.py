"""The event store: append to and read from Redis Streams in the common entry format.

Appends run as one Lua script per batch (per hash slot on a cluster): the script checks
each event id against the stream's dedup index, checks expected versions, and only then
writes, so a batch is all-or-nothing and a retried append is a no-op that returns the
original positions. Batching on the server side is also what makes appends fast: one
command carries hundreds of events instead of one command per event.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from events.codec import CORRELATION_ID, TYPE, decode, encode
from events.envelope import Event, RecordedEvent
from events.errors import (
    BatchTooLargeError,
    ImpressoxError,
    InvalidEventError,
    UpcastError,
    WrongExpectedVersionError,
)
from events.lua import pack, register
from events.merge import merge_by_position
from events.names import StreamNames, check_category
from events.position import Position
from events.redis_client import RedisClient, entries, is_cluster, stream_replies, text
from events.registry import REGISTRY, PayloadRegistry

Bound = Position | datetime | None

FOLLOW_STOP_TIMEOUT_S = 5.0
"""How long closing `follow` waits for its readers to finish cancelling."""

MAX_BATCH = 10_000
"""The most events one atomic batch may carry: a bigger script call would stall Redis."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an event was stored, and whether it was there already (a retried append)."""

    stream: str
    position: Position
    duplicate: bool


@dataclass
class _ScriptCall:
    """The KEYS and ARGV of one append script call, built event by event."""

    streams: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def add(self, stream: str, event: Event, expected_version: int | None = None) -> None:
        index = self._index.get(stream)
        if index is None:
            self.streams.append(stream)
            self.expected.append("" if expected_version is None else str(expected_version))
            index = self._index[stream] = len(self.streams)
        self.events.append(index)
        self.events.extend(encode(event))
        self.targets.append(stream)

    def keys(self) -> list[str]:
        keys: list[str] = []
        for stream in self.streams:
            keys += (stream, StreamNames.dedup_index(stream))
        return keys

    def args(self, *, count_only: bool = False) -> list[Any]:
        mode = "count" if count_only else "positions"
        return [len(self.streams), *self.expected, pack(self.events), mode]

    def results(self, reply: list[Any]) -> list[AppendResult]:
        return [
            AppendResult(stream, Position.parse(reply[2 * i]), bool(reply[2 * i + 1]))
            for i, stream in enumerate(self.targets)
        ]


class EventStore:
    """Append and read events. One instance per process, shared by every task."""

    def __init__(
        self, redis: RedisClient, names: StreamNames, registry: PayloadRegistry = REGISTRY
    ) -> None:
        self.redis = redis
        self.names = names
        self.registry = registry
        self._append = register(redis, "events", "append")
        self._cluster = is_cluster(redis)

    # -- appending ----------------------------------------------------------------------

    async def append(self, category: str, event: Event) -> AppendResult:
        """Append one event to its partition of `category`."""
        (result,) = await self.append_batch(category, [event])
        return result

    async def append_batch(self, category: str, events: Sequence[Event]) -> list[AppendResult]:
        """Append events to their partitions of `category`, all or nothing.

        On one Redis node the whole batch is one script call. On a cluster it is one call
        per partition, each atomic; should the connection fail between them, retrying the
        batch completes it without duplicates, since appends are idempotent by event id.
        """
        check_category(category)
        if len(events) > MAX_BATCH:
            raise BatchTooLargeError(
                f"a batch holds at most {MAX_BATCH} events, not {len(events)}: use append_many"
            )
        calls = self._plan(category, events)
        replies = await asyncio.gather(*(self._call(call) for call in calls))
        return self._in_input_order(category, events, calls, replies)

    async def append_many(
        self, category: str, events: Iterable[Event], *, chunk: int = 1000, depth: int = 4
    ) -> int:
        """Bulk-load events in order, in pipelined chunks; returns how many were new.

        Each chunk is atomic and idempotent, the whole load is not: re-running a load
        that failed halfway appends only what is missing. Up to `depth` chunks are in
        flight on one connection, so Redis runs one chunk while the next is encoded,
        and chunks are applied in the order they were sent.
        """
        check_category(category)
        chunks = self._chunks(category, events, chunk)
        if self._cluster:
            written = 0
            for call in chunks:  # one call per partition, in order
                written += await self._call(call, count_only=True)
            return written
        return await self._send_in_order(chunks, depth)

    async def _send_in_order(self, calls: Iterator[_ScriptCall], depth: int) -> int:
        assert isinstance(self.redis, Redis)  # a cluster takes the other path
        sha = text(await self.redis.script_load(self._append.script))
        pool = self.redis.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        written = unanswered = 0
        try:
            for call in calls:
                keys = call.keys()
                await connection.send_command(
                    "EVALSHA", sha, len(keys), *keys, *call.args(count_only=True)
                )
                unanswered += 1
                if unanswered == depth:
                    written += int(await connection.read_response())
                    unanswered -= 1
            for _ in range(unanswered):
                written += int(await connection.read_response())
        except BaseException:
            await connection.disconnect()  # replies may still be due: never reuse it
            raise
        finally:
            await pool.release(connection)
        return written

    def _chunks(self, category: str, events: Iterable[Event], size: int) -> Iterator[_ScriptCall]:
        batch: list[Event] = []
        for event in events:
            batch.append(event)
            if len(batch) == size:
                yield from self._plan(category, batch)
                batch = []
        if batch:
            yield from self._plan(category, batch)

    async def append_to_stream(
        self, stream: str, events: Sequence[Event], *, expected_version: int | None
    ) -> list[AppendResult]:
        """Append events to one stream (an aggregate's), checking its current version.

        `expected_version` is the version of the stream's last event (0 for a new stream);
        the events must carry the versions that follow it. Another writer having appended
        first raises `WrongExpectedVersionError` and writes nothing. `None` skips the check.
        """
        self.names.parse(stream)
        if not events:
            return []
        if expected_version is not None:
            for offset, event in enumerate(events):
                wanted = expected_version + offset + 1
                if event.version != wanted:
                    raise InvalidEventError(
                        f"version must be {wanted} to follow expected version {expected_version}",
                        field="version",
                        index=offset,
                    )
        call = _ScriptCall()
        for event in events:
            call.add(stream, event, expected_version)
        return call.results(await self._call(call))

    def _plan(self, category: str, events: Sequence[Event]) -> list[_ScriptCall]:
        """Group events into script calls: one call, or one per hash slot on a cluster."""
        if not self._cluster:
            call = _ScriptCall()
            for event in events:
                call.add(self.names.stream_for_key(category, event.key), event)
            return [call]
        by_stream: dict[str, _ScriptCall] = {}
        for event in events:
            stream = self.names.stream_for_key(category, event.key)
            by_stream.setdefault(stream, _ScriptCall()).add(stream, event)
        return list(by_stream.values())

    async def _call(self, call: _ScriptCall, *, count_only: bool = False) -> Any:
        try:
            reply = await self._append(keys=call.keys(), args=call.args(count_only=count_only))
        except ResponseError as error:
            raise _conflict_or(error) from None
        return reply

    def _in_input_order(
        self,
        category: str,
        events: Sequence[Event],
        calls: list[_ScriptCall],
        replies: list[Any],
    ) -> list[AppendResult]:
        if len(calls) == 1:
            return calls[0].results(replies[0])
        # One call per stream, its results in input order: take each event's from its stream.
        by_stream = {
            call.streams[0]: iter(call.results(reply))
            for call, reply in zip(calls, replies, strict=True)
        }
        return [next(by_stream[self.names.stream_for_key(category, e.key)]) for e in events]

    # -- reading ------------------------------------------------------------------------

    async def read_stream(
        self,
        stream: str,
        *,
        start: Bound = None,
        end: Bound = None,
        reverse: bool = False,
        limit: int | None = None,
        types: Iterable[str] | None = None,
        correlation_id: UUID | None = None,
        strict: bool = False,
        on_invalid: Callable[[str, Position, ImpressoxError], None] | None = None,
        page: int = 500,
    ) -> AsyncIterator[RecordedEvent]:
        """Events of one stream between `start` and `end` (inclusive), in stream order.

        Bounds are positions or times (a stream id's first half is its append time in
        milliseconds). `reverse` walks from `end` down to `start`. `types` and
        `correlation_id` filter before decoding, so a filtered scan stays cheap.
        An entry that does not decode raises `InvalidEventError`, unless `on_invalid` is
        given: it is then told (stream, position, error) and the entry left out, for a
        reader that must get past a poison entry its handlers dead-letter (a starting
        rule engine recovering its firings).
        """
        wanted_types = {name.encode() for name in types} if types is not None else None
        wanted_correlation = str(correlation_id).encode() if correlation_id else None
        low, high = _lower(start), _upper(end)
        remaining = limit
        while remaining is None or remaining > 0:
            if reverse:
                page_entries = entries(await self.redis.xrevrange(stream, high, low, count=page))
            else:
                page_entries = entries(await self.redis.xrange(stream, low, high, count=page))
            for entry_id, fields in page_entries:
                if (wanted_types is not None and fields.get(TYPE) not in wanted_types) or (
                    wanted_correlation is not None
                    and fields.get(CORRELATION_ID) != wanted_correlation
                ):
                    continue
                recorded = self._decoded(stream, entry_id, fields, strict, on_invalid)
                if recorded is None:
                    continue
                yield recorded
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
            if len(page_entries) < page:
                return
            last = page_entries[-1][0].decode()
            if reverse:
                high = "(" + last
            else:
                low = "(" + last

    def _decoded(
        self,
        stream: str,
        entry_id: bytes,
        fields: dict[bytes, bytes],
        strict: bool,
        on_invalid: Callable[[str, Position, ImpressoxError], None] | None,
    ) -> RecordedEvent | None:
        position = Position.parse(entry_id)
        try:
            return RecordedEvent(stream, position, decode(fields, self.registry, strict=strict))
        except (InvalidEventError, UpcastError) as poison:
            if on_invalid is None:
                raise
            on_invalid(stream, position, poison)
            return None

    async def read_category(
        self,
        category: str,
        *,
        start: Bound = None,
        end: Bound = None,
        reverse: bool = False,
        limit: int | None = None,
        types: Iterable[str] | None = None,
        correlation_id: UUID | None = None,
        strict: bool = False,
    ) -> AsyncIterator[RecordedEvent]:
        """Events of every partition of `category`, merged into one order by position.

        Positions from different partitions compare by their append time (and sequence),
        so the merge is the order in which Redis accepted them, to the millisecond.
        """
        type_list = list(types) if types is not None else None
        readers = [
            self.read_stream(
                stream,
                start=start,
                end=end,
                reverse=reverse,
                types=type_list,
                correlation_id=correlation_id,
                strict=strict,
            )
            for stream in self.names.category_streams(check_category(category))
        ]
        count = 0
        async for recorded in merge_by_position(readers, reverse=reverse):
            yield recorded
            count += 1
            if limit is not None and count >= limit:
                return

    async def follow(
        self, streams: Sequence[str], *, from_start: bool = False, block_ms: int = 1000
    ) -> AsyncGenerator[RecordedEvent, None]:
        """Events appended to `streams` from now on (or from their start), until cancelled.

        One blocking XREAD per stream, so it runs unchanged on a cluster (streams of
        different partitions live in different hash slots). Events of one stream arrive
        in order; across streams, in the order they arrive. Close it (`aclose`, or leave
        an `async for`) to stop its readers.
        """
        arrivals: asyncio.Queue[RecordedEvent | BaseException] = asyncio.Queue(maxsize=1000)

        async def pump(stream: str) -> None:
            try:
                last = "0-0" if from_start else await self._last_id(stream)
                while True:
                    reply = await self.redis.xread({stream: last}, block=block_ms, count=500)
                    for _, arrived in stream_replies(reply):
                        for entry_id, fields in arrived:
                            last = entry_id.decode()
                            event = decode(fields, self.registry, strict=False)
                            await arrivals.put(
                                RecordedEvent(stream, Position.parse(entry_id), event)
                            )
            except asyncio.CancelledError:
                raise
            except BaseException as error:
                await arrivals.put(error)

        pumps = [asyncio.create_task(pump(stream)) for stream in streams]
        try:
            while True:
                item = await arrivals.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.wait(pumps, timeout=FOLLOW_STOP_TIMEOUT_S)

    async def _last_id(self, stream: str) -> str:
        last = entries(await self.redis.xrevrange(stream, "+", "-", count=1))
        return last[0][0].decode() if last else "0-0"

    async def stream_version(self, stream: str) -> int:
        """The version of the last event of an aggregate stream, 0 when it is empty."""
        last = entries(await self.redis.xrevrange(stream, "+", "-", count=1))
        if not last:
            return 0
        version = last[0][1].get(b"version", b"")
        return int(version) if version else 0


def _lower(bound: Bound) -> str:
    if bound is None:
        return "-"
    if isinstance(bound, datetime):
        bound = Position.at_time(bound)
    return str(bound)


def _upper(bound: Bound) -> str:
    if bound is None:
        return "+"
    if isinstance(bound, datetime):
        bound = Position.end_of_time(bound)
    return str(bound)


def _conflict_or(error: ResponseError) -> Exception:
    message = str(error)
    if message.startswith("IXCONFLICT "):
        _, stream, expected, actual = message.split(" ")
        return WrongExpectedVersionError(stream, int(expected), int(actual))
    return error
