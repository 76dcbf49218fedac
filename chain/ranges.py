"""Reading logs over block ranges with `eth_getLogs`, in ranges that fit the provider.

Providers cap a query's block range or its result (Infura: 10,000 results; Alchemy:
2,000 blocks for some plans; a public node: whatever it times out on) and say so in
their own words (`chain.rpc` turns them into `RangeTooLargeError`). So the range starts
at the setting's size, halves on each "too large" until one block, and doubles again
after a few successes, up to the setting: the watcher learns each provider's limit
instead of being told it. Rate limits and timeouts are retried by `chain.rpc`.

A range's last block is read too: its hash is the cursor after the range, and every log
of that block must carry it (nodes behind a load balancer can disagree for a moment;
then the range is read again). When wallets are watched, every block of the range is
read with its transactions, for their native transfers (`chain.natives`): one call per
block, a few at a time, which logs alone would not need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chain.blocks import Block, Log, Transaction, unique_logs
from chain.errors import BlockUnavailableError, NodeUnavailableError, RangeTooLargeError
from chain.natives import native_transfers
from chain.queries import LogQueries
from chain.rpc import ATTEMPTS, ChainRpc
from events.backoff import Backoff

GROW_AFTER = 4
"""Successes in a row before a shrunk range doubles again."""

BLOCKS_AT_ONCE = 16
"""Blocks asked for concurrently when a range's transactions are read."""


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
    """Blocks `first` to `last`: the logs in them, the native transfers of watched
    wallets (each with its block), and the last block's header."""

    first: int
    last: int
    logs: list[Log]
    last_block: Block
    natives: list[tuple[Block, Transaction]] = field(default_factory=list)
    times: dict[int, int] = field(default_factory=dict)
    """The timestamps of the blocks read (all of them when wallets are watched)."""


@dataclass
class RangeReader:
    rpc: ChainRpc
    sizer: RangeSizer
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    backoff: Backoff = field(default_factory=lambda: Backoff(0.5, 10.0, "half"))

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
        wallets = queries.targets.wallets
        numbers = range(first, end + 1) if wallets else range(end, end + 1)
        batches, blocks = await asyncio.gather(
            asyncio.gather(*(self.rpc.logs(query) for query in queries.for_range(first, end))),
            self._blocks(numbers, transactions=bool(wallets)),
        )
        last_block = blocks[-1]
        logs = unique_logs(batches)
        hashes = {block.number: block.hash for block in blocks}
        if any(hashes.get(log.block_number, log.block_hash) != log.block_hash for log in logs):
            raise BlockUnavailableError(f"the node's logs and blocks of {first}-{end} disagree")
        natives = [
            (block, tx)
            for block, found in zip(
                blocks,
                await asyncio.gather(*(native_transfers(self.rpc, b, wallets) for b in blocks)),
                strict=True,
            )
            for tx in found
        ]
        self.sizer.succeeded()
        self.backoff.reset()
        times = {block.number: block.timestamp for block in blocks}
        return RangeRead(first, end, logs, last_block, natives, times)

    async def _blocks(self, numbers: range, *, transactions: bool) -> list[Block]:
        limit = asyncio.Semaphore(BLOCKS_AT_ONCE)

        async def one(number: int) -> Block:
            async with limit:
                block = await self.rpc.block(number, transactions=transactions)
            if block is None:
                raise BlockUnavailableError(f"the node has no block {number} (behind others?)")
            return block

        return list(await asyncio.gather(*(one(number) for number in numbers)))
