"""Reading logs over block ranges with `eth_getLogs`, in ranges that fit the provider.

Providers cap a query's block range or its result (Infura: 10,000 results; Alchemy:
2,000 blocks for some plans; a public node: whatever it times out on) and say so in
their own words (`chain.rpc` turns them into `RangeTooLargeError`). So the range starts
at the setting's size, halves on each "too large" until one block, and doubles again
after a few successes, up to the setting: the watcher learns each provider's limit
instead of being told it. Rate limits and timeouts are retried by `chain.rpc`.

A range's last block is read too: its hash is the cursor after the range, and every log
of that block must carry it (nodes behind a load balancer can disagree for a moment;
then the range is read again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chain.blocks import Block, Log, unique_logs
from chain.errors import BlockUnavailableError, NodeUnavailableError, RangeTooLargeError
from chain.queries import LogQueries
from chain.rpc import ATTEMPTS, ChainRpc
from sources.backoff import Backoff

GROW_AFTER = 4
"""Successes in a row before a shrunk range doubles again."""


@dataclass
class RangeSizer:
    """How many blocks the next `eth_getLogs` spans."""

    maximum: int
    size: int = 0
    successes: int = 0

    def __post_init__(self) -> None:
        if self.maximum < 1:
            raise ValueError(f"a range spans at least one block, not {self.maximum}")
        self.size = self.size or self.maximum

    def shrink(self) -> None:
        self.size = max(1, self.size // 2)
        self.successes = 0

    def succeeded(self) -> None:
        self.successes += 1
        if self.successes >= GROW_AFTER and self.size < self.maximum:
            self.size = min(self.maximum, self.size * 2)
            self.successes = 0


@dataclass(frozen=True)
class RangeRead:
    """Blocks `first` to `last`: the logs in them, and the last block's header."""

    first: int
    last: int
    logs: list[Log]
    last_block: Block


@dataclass
class RangeReader:
    rpc: ChainRpc
    sizer: RangeSizer
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    backoff: Backoff = field(default_factory=lambda: Backoff(first_s=0.5, max_s=10.0))

    async def read(self, queries: LogQueries, first: int, last: int) -> RangeRead:
        """The logs of blocks `first` up to at most `last`: as many blocks as the
        provider serves in one query (see `RangeRead.last` for how far it got)."""
        failures = 0
        while True:
            end = min(last, first + self.sizer.size - 1)
            try:
                return await self._read(queries, first, end)
            except RangeTooLargeError as error:
                if end > first:
                    self.sizer.shrink()
                    continue
                failures += 1  # one block, still too much: a node in trouble, or a timeout
                if failures >= ATTEMPTS:
                    raise NodeUnavailableError(
                        f"eth_getLogs of block {first} alone fails: {error}"
                    ) from None
            except BlockUnavailableError:
                failures += 1  # nodes disagreeing for a moment
                if failures >= ATTEMPTS:
                    raise
            await self.sleep(self.backoff.next_delay())

    async def _read(self, queries: LogQueries, first: int, end: int) -> RangeRead:
        batches, last_block = await asyncio.gather(
            asyncio.gather(*(self.rpc.logs(query) for query in queries.for_range(first, end))),
            self.rpc.block(end),
        )
        if last_block is None:
            raise BlockUnavailableError(f"the node has no block {end} (behind the others?)")
        logs = unique_logs(batches)
        if any(log.block_number == end and log.block_hash != last_block.hash for log in logs):
            raise BlockUnavailableError(f"the node's logs and header of block {end} disagree")
        self.sizer.succeeded()
        self.backoff.reset()
        return RangeRead(first, end, logs, last_block)
