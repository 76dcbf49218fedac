"""Reading one partition for its owner: adopting what the previous owner left pending,
then the consumer's own pending entries, then new ones.

The partition worker (`handlers.partition`) decides when to read what; this module
only speaks to Redis: the adopt script (`XAUTOCLAIM ... JUSTID` keeping the deleted-ids
reply redis-py drops), XREADGROUP, and the delivery counts of recovered entries.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from events.lua import register
from events.names import StreamNames
from events.redis_client import RedisClient, stream_replies

log = structlog.get_logger(__name__)

Entry = tuple[str, bytes, dict[bytes, bytes] | None]
"""(stream, entry id, fields); fields are None for an entry deleted while pending."""

ADOPT_CHUNK = 10_000


class PartitionReader:
    """Reads `streams` of one partition as `consumer` of `group`; adopting checks that
    the consumer holds the partition's lease."""

    def __init__(
        self,
        redis: RedisClient,
        names: StreamNames,
        *,
        group: str,
        consumer: str,
        tag: str,
        streams: list[str],
        batch_size: int,
        block_ms: int,
    ) -> None:
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self.streams = streams
        self.lease = names.lease(tag, group)
        self.batch_size = batch_size
        self.block_ms = block_ms
        self._adopt = register(redis, "handlers", "adopt")
        self.log = log.bind(handler=group, partition=tag, consumer=consumer)

    async def adopt_pending(self) -> None:
        """Make every pending entry of the partition ours: the previous owner is gone."""
        for stream in self.streams:
            while True:
                moved, deleted = await self._adopt(
                    keys=[self.lease, stream], args=[self.group, self.consumer, ADOPT_CHUNK]
                )
                if moved or deleted:
                    self.log.info(
                        "adopted pending entries",
                        stream=stream,
                        moved=len(moved),
                        deleted=len(deleted),
                    )
                if len(moved) < ADOPT_CHUNK:
                    break

    async def read(self, start: str, block: int | None) -> list[Entry]:
        """Up to a batch of entries: ours still pending from `start` "0", new ones from ">"."""
        reply = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(self.streams, start),
            count=self.batch_size,
            block=block,
        )
        batch: list[Entry] = []
        for stream_name, arrived in stream_replies(reply):
            stream = stream_name.decode()
            batch.extend((stream, entry_id, fields or None) for entry_id, fields in arrived)
        return batch

    async def read_or_stop(self, stopped: asyncio.Future[Any]) -> list[Entry] | None:
        """Block for new entries, but return None at once when `stopped` completes meanwhile.

        Cancelling the read is safe: entries the server delivered but we never saw stay
        pending in our name and are adopted by the partition's next owner.
        """
        read: asyncio.Future[Any] = asyncio.ensure_future(self.read(">", block=self.block_ms))
        await asyncio.wait((read, stopped), return_when=asyncio.FIRST_COMPLETED)
        if read.done():
            batch: list[Entry] = read.result()
            return batch
        read.cancel()
        await asyncio.gather(read, return_exceptions=True)
        return None

    async def deliveries(self, batch: list[Entry]) -> dict[bytes, int]:
        """How often each entry of a recovered batch has been delivered, this time included."""
        counts: dict[Any, int] = {}
        for stream in {entry[0] for entry in batch}:
            ids = [entry[1] for entry in batch if entry[0] == stream]
            pending = await self.redis.xpending_range(
                stream,
                self.group,
                min=ids[0],
                max=ids[-1],
                count=len(ids),
                consumername=self.consumer,
            )
            counts.update((row["message_id"], int(row["times_delivered"])) for row in pending)
        return counts
