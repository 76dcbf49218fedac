"""The hub: one shared reader per stream for all live clients of this API process.

However many clients follow a stream, the process reads it once: a blocking XREAD per
hash tag (a partition, or an application's log) over the streams of that tag that have
subscribers, so the same code runs on one Redis and on a cluster. Each entry is decoded
once and handed to the subscriptions of its stream, which filter it and queue it
without waiting (a full queue drops that client, never the reader).

Readers start with their tag's first subscriber and stop with its last. They use a
Redis client of their own: a blocked XREAD holds a connection for up to `block_ms`,
which must never starve the pool that requests use.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import structlog
from redis.exceptions import RedisError

from api.live.arrival import Arrival, json_string
from api.live.subscriber import Subscription
from events.codec import decode
from events.errors import ImpressoxError
from events.names import StreamNames
from events.position import Position
from events.redis_client import Entry, RedisClient, entries, stream_replies
from events.registry import REGISTRY, PayloadRegistry

log = structlog.get_logger(__name__)

READ_COUNT = 500
"""Entries one XREAD returns at most; a burst larger than this takes several reads."""

RETRY_S = 1.0
"""How long a reader waits after Redis failed it before reading again from where it was."""


@dataclass(eq=False)
class _Stream:
    """A stream being read: where the reader is, and who gets what arrives."""

    name: str
    last: Position
    subscribers: dict[Subscription, None] = field(default_factory=dict)
    """Insertion-ordered set: clients of one stream are served in the order they came."""

    def __post_init__(self) -> None:
        self.name_json = json_string(self.name)


class _Reader:
    """Reads the subscribed streams of one hash tag and fans their entries out."""

    def __init__(
        self, tag: str, redis: RedisClient, registry: PayloadRegistry, block_ms: int
    ) -> None:
        self.tag = tag
        self.streams: dict[str, _Stream] = {}
        self._redis = redis
        self._registry = registry
        self._block_ms = block_ms
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"live reader {tag}")

    def add(self, stream: _Stream) -> None:
        """Read `stream` too, from its `last` position; interrupts a read in progress."""
        self.streams[stream.name] = stream
        self._changed.set()

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            offsets = {name: str(stream.last) for name, stream in self.streams.items()}
            try:
                reply = await self._read(offsets)
                for stream_name, arrived in stream_replies(reply):
                    stream = self.streams.get(stream_name.decode())
                    if stream is not None:
                        self._fan_out(stream, arrived)
            except RedisError as error:
                log.warning("live reader failed; retrying", tag=self.tag, error=str(error))
                await asyncio.sleep(RETRY_S)
            except Exception:  # a reader that died would leave its clients waiting forever
                log.exception("live reader failed; retrying", tag=self.tag)
                await asyncio.sleep(RETRY_S)

    async def _read(self, offsets: dict[str, str]) -> object:
        """XREAD BLOCK over `offsets`; None as soon as the set of streams changes."""
        read = asyncio.ensure_future(
            self._redis.xread(offsets, block=self._block_ms, count=READ_COUNT)  # type: ignore[arg-type]
        )
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait((read, changed), return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            if not read.done():
                read.cancel()  # redis-py drops the connection: no reply is left unread
                await asyncio.gather(read, return_exceptions=True)
        return None if read.cancelled() else read.result()

    def _fan_out(self, stream: _Stream, arrived: list[Entry]) -> None:
        """Hand each new entry to every subscriber, without awaiting anything.

        Nothing here awaits, so a subscription attached between two reads receives
        exactly the entries after the stream's `last` at the moment it attached.
        """
        for entry_id, fields in arrived:
            position = Position.parse(entry_id)
            if position <= stream.last:
                continue  # read before the stream was re-added at a later position
            stream.last = position
            try:
                event = decode(fields, self._registry, strict=False)
            except ImpressoxError as error:
                log.warning("live reader skipped an entry", stream=stream.name,
                            position=str(position), error=str(error))  # fmt: skip
                continue
            arrival = Arrival(stream.name, stream.name_json, position, event)
            for subscriber in stream.subscribers:
                subscriber.offer(arrival)


class Hub:
    """Shares stream readers between the live subscriptions of one process."""

    def __init__(
        self,
        redis: RedisClient,
        names: StreamNames,
        *,
        block_ms: int,
        registry: PayloadRegistry = REGISTRY,
    ) -> None:
        self.names = names
        self._redis = redis
        self._registry = registry
        self._block_ms = block_ms
        self._readers: dict[str, _Reader] = {}
        self._streams: dict[str, _Stream] = {}

    async def attach(self, subscription: Subscription) -> dict[str, Position]:
        """Deliver the topic's events arriving from now on to `subscription`.

        Returns, per stream, the position after which it will receive every entry:
        the reader's current position, or the stream's last entry for a stream no
        one read yet.
        """
        starts: dict[str, Position] = {}
        try:
            for name in subscription.topic.streams:
                stream = self._streams.get(name) or await self._open(name)
                stream.subscribers[subscription] = None
                starts[name] = stream.last
        except BaseException:
            self.detach(subscription)  # not half attached: every stream or none
            raise
        return starts

    def detach(self, subscription: Subscription) -> None:
        """Stop delivering to `subscription`; a stream left without subscribers stops
        being read, and a reader left without streams stops."""
        for name in subscription.topic.streams:
            stream = self._streams.get(name)
            if stream is None or subscription not in stream.subscribers:
                continue
            del stream.subscribers[subscription]
            if stream.subscribers:
                continue
            del self._streams[name]
            tag = self.names.tag_of(name)
            reader = self._readers[tag]
            del reader.streams[name]
            if not reader.streams:
                reader.task.cancel()
                del self._readers[tag]

    def subscriber_count(self, stream: str) -> int:
        """How many subscriptions receive `stream` now (for metrics and tests)."""
        found = self._streams.get(stream)
        return len(found.subscribers) if found is not None else 0

    async def close(self) -> None:
        """Stop every reader and close the hub's Redis client."""
        tasks = [reader.task for reader in self._readers.values()]
        self._readers.clear()
        self._streams.clear()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._redis.aclose()

    async def _open(self, name: str) -> _Stream:
        """Start reading `name` from its last entry (created by the first subscriber)."""
        last = entries(await self._redis.xrevrange(name, "+", "-", count=1))
        opened = self._streams.get(name)
        if opened is not None:  # another subscriber opened it while we asked Redis
            return opened
        stream = _Stream(name, Position.parse(last[0][0]) if last else Position(0, 0))
        self._streams[name] = stream
        tag = self.names.tag_of(name)
        reader = self._readers.get(tag)
        if reader is None:
            reader = self._readers[tag] = _Reader(tag, self._redis, self._registry, self._block_ms)
        reader.add(stream)
        return stream
