"""The chain watcher: one process per chain appends what users watch, reorg-safe.

The loop:

1. **Lease.** Take the chain's lease (``ix:{chain}:lease.<id>``) or wait: several
   watcher processes of one chain may run, one follows, the others stand by and take
   over within the lease's time to live. Every step is fenced by the lease.
2. **Start.** With no cursor yet, start at `start_block` (else the head): read the
   `depth` block headers below it into the window, so that a reorg of the very first
   blocks has its ancestor to walk down to, and write that cursor.
3. **Catch up.** While the head is more than twice `depth` ahead, read ranges of logs up
   to `depth` below the head (`chain.backfill`), a range's steps moving the cursor.
4. **Follow** block by block (`chain.follower`); between blocks, the pacer says when to
   ask again. The watched targets and registered ABIs are refreshed before each step.

A node failing past its retries, or nodes disagreeing, costs a pause and a reload of the
state, never a half-written step. A reorg deeper than the window stops the watcher.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

import structlog

from chain.abis import Decoders
from chain.backfill import steps_of_range
from chain.blocks import ZERO_HASH
from chain.errors import (
    BlockUnavailableError,
    CursorMovedError,
    MalformedReplyError,
    NodeUnavailableError,
    RpcError,
    WatcherLeaseLostError,
)
from chain.follower import Follower, Outcome
from chain.journal import ChainJournal, Cursor, JournalState, Step, WindowBlock
from chain.observations import RecordBuilder
from chain.pacing import PollPacer
from chain.queries import LogQueries
from chain.ranges import RangeReader, RangeSizer
from chain.rpc import ChainRpc
from chain.tokens import TokenBook
from chain.usd_prices import UsdPriceBook
from chain.watchset import WatchSet
from events.backoff import Backoff
from events.envelope import Event
from events.outages import Outage, outage, redis_unavailable, through_redis_outage
from events.stopping import sleep_unless_stopped

log = structlog.get_logger(__name__)

HEADERS_AT_ONCE = 16
"""Block headers asked for concurrently while filling the window at the first start."""


@dataclass(frozen=True)
class WatcherConfig:
    confirmations: int
    """Blocks deep an observation must be to be confirmed (1: its own block)."""
    reorg_depth: int = 64
    """The deepest reorg followed: the window of recent blocks kept. At least
    `confirmations`; a deeper reorg stops the watcher."""
    poll_interval_s: float = 0.25
    start_block: int | None = None
    """Where a chain with no cursor starts; None: its head at the first start."""
    range_blocks: int = 2_000
    lease_ttl_ms: int = 15_000

    def __post_init__(self) -> None:
        if not 1 <= self.confirmations <= self.reorg_depth:
            raise ValueError(
                f"confirmations ({self.confirmations}) must be between 1 and the reorg"
                f" depth ({self.reorg_depth})"
            )


def owner_name(chain_id: int) -> str:
    """A lease owner unique to this process: chain, host, pid and a random suffix."""
    return f"chain.{chain_id}@{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class ChainWatcher:
    rpc: ChainRpc
    journal: ChainJournal
    watch_set: WatchSet
    decoders: Decoders
    config: WatcherConfig
    owner: str = ""
    prices: UsdPriceBook | None = None
    """USD prices of tokens' symbols (None: transfers carry no USD value)."""
    sleep_backoff: Backoff = field(default_factory=lambda: Backoff(1.0, 30.0, "half"))

    def __post_init__(self) -> None:
        self.chain_id = self.journal.chain_id
        self.owner = self.owner or owner_name(self.chain_id)
        self.tokens = TokenBook(self.rpc, self.journal.store.redis, self.journal.tokens_key)
        self.builder = RecordBuilder(self.chain_id, self.decoders, self.tokens, self.prices)
        self.reader = RangeReader(self.rpc, RangeSizer(self.config.range_blocks))
        self.pacer = PollPacer(self.config.poll_interval_s)
        self.head = -1
        self._renewed_at = 0.0
        self._slept, self._advanced_in_a_row = False, 0
        self._log = log.bind(chain_id=self.chain_id, owner=self.owner)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the chain until `stop` is set (or a reorg deeper than the window).

        A Redis outage stops nothing: the watcher waits for Redis and starts again from
        the journal, whose cursor moved only with what it appended (a step whose reply
        was lost is found by the cursor check and reloaded, never appended twice)."""
        redis = outage("Redis")
        await through_redis_outage(self.tokens.load, stop)
        try:
            while not stop.is_set():
                try:
                    await self._round(stop, redis)
                except Exception as error:
                    if not redis_unavailable(error):
                        raise
                    await redis.wait(error, stop)
        finally:
            await asyncio.shield(self._release_lease())

    async def _round(self, stop: asyncio.Event, redis: Outage) -> None:
        """Hold the lease, then follow the chain from the journal's state until something
        makes the watcher reload it (or stops it)."""
        held = await self._hold_lease()
        redis.succeeded()  # it answered: an outage, if there was one, is over
        if not held:
            await sleep_unless_stopped(stop, self.config.lease_ttl_ms / 3000)
            return
        try:
            state = await self._started(await self.journal.load(), stop)
            if state is None:
                return
            await self._follow(state, stop)
        except (CursorMovedError, WatcherLeaseLostError) as error:
            self._log.warning("state moved under the watcher: reloading", error=str(error))
        except (NodeUnavailableError, RpcError, MalformedReplyError) as error:
            delay = self.sleep_backoff.next_delay()
            self._log.error("chain node trouble: pausing", error=str(error), pause_s=delay)
            await sleep_unless_stopped(stop, delay)

    async def _release_lease(self) -> None:
        """Give the lease up for the next watcher; with Redis away it expires by itself."""
        try:
            await self.journal.release_lease(self.owner)
        except Exception as error:
            if not redis_unavailable(error):
                raise
            self._log.warning("lease not released (Redis away): it expires", error=str(error))

    # -- the lease ------------------------------------------------------------------------

    async def _hold_lease(self) -> bool:
        held = await self.journal.hold_lease(
            self.owner,
            self.config.lease_ttl_ms,
            {"owner": self.owner, "head": self.head, "at_ms": int(time.time() * 1000)},
        )
        self._renewed_at = time.monotonic()
        return held

    async def _renew_if_due(self) -> None:
        if time.monotonic() - self._renewed_at < self.config.lease_ttl_ms / 3000:
            return
        if not await self._hold_lease():
            raise WatcherLeaseLostError(f"another watcher took chain {self.chain_id} over")

    # -- starting -------------------------------------------------------------------------

    async def _started(self, state: JournalState, stop: asyncio.Event) -> JournalState | None:
        """`state` with a cursor: the stored one, or a first one written now."""
        self.head = await self.rpc.block_number()
        if state.cursor is not None:
            return state
        start = self.head if self.config.start_block is None else self.config.start_block
        if start > self.head + 1:
            self._log.info("waiting for the start block", start=start, head=self.head)
            await sleep_unless_stopped(stop, self.config.poll_interval_s * 8)
            return None
        window = await self._headers(max(0, start - self.config.reorg_depth), start - 1)
        below = window[-1] if window else WindowBlock(-1, ZERO_HASH, ZERO_HASH)
        cursor = Cursor(below.number, below.hash, below.number)
        await self.journal.commit(
            Step(cursor=cursor, window_set=window), expected=None, owner=self.owner
        )
        self._log.info("started following", start=start, head=self.head)
        return JournalState(cursor, {block.number: block for block in window}, state.reorged)

    async def _headers(self, first: int, last: int) -> list[WindowBlock]:
        """Headers of blocks `first` to `last`, linked by their parent hashes."""
        blocks: list[WindowBlock] = []
        for start in range(first, last + 1, HEADERS_AT_ONCE):
            numbers = range(start, min(last, start + HEADERS_AT_ONCE - 1) + 1)
            read = await asyncio.gather(*(self.rpc.block(number) for number in numbers))
            for block in read:
                if block is None or (blocks and block.parent_hash != blocks[-1].hash):
                    raise BlockUnavailableError("the node's chain changed while it was read")
                blocks.append(WindowBlock(block.number, block.hash, block.parent_hash))
        return blocks

    # -- following ------------------------------------------------------------------------

    async def _follow(self, state: JournalState, stop: asyncio.Event) -> None:
        follower = Follower(
            self.rpc,
            self.journal,
            self.builder,
            state,
            confirmations=self.config.confirmations,
            depth=self.config.reorg_depth,
            owner=self.owner,
        )
        queries: LogQueries | None = None
        self._slept, self._advanced_in_a_row = False, 0
        while not stop.is_set():
            await self._renew_if_due()
            if await self.watch_set.refresh() or queries is None:
                queries = LogQueries(self.watch_set.targets)
            await self.decoders.refresh()
            if self.head - follower.cursor.number > 2 * self.config.reorg_depth:
                await self._catch_up(follower, queries, stop)
                self.head = await self.rpc.block_number()
                continue
            try:
                outcome = await follower.step(queries)
            except BlockUnavailableError:
                outcome = Outcome.WAITING
            await self._account(outcome, follower)
            if outcome is Outcome.WAITING:
                await sleep_unless_stopped(stop, self.pacer.wait_s())
            elif self._slept:  # at the head: the next block is not due yet
                await sleep_unless_stopped(stop, self.pacer.until_due_s())

    async def _account(self, outcome: Outcome, follower: Follower) -> None:
        """Pace the polls by the blocks found at the head; ask for the head again after
        `depth` blocks in a row (the watcher may have fallen far behind)."""
        self.sleep_backoff.reset()
        if outcome is Outcome.ADVANCED:
            self.head = max(self.head, follower.cursor.number)
            if self._slept and follower.last_timestamp is not None:
                self.pacer.block_arrived(follower.last_timestamp)
            else:
                self.pacer.forget()  # catching up: the blocks came without waiting
            self._advanced_in_a_row = 0 if self._slept else self._advanced_in_a_row + 1
            if self._advanced_in_a_row >= self.config.reorg_depth:
                self.head = await self.rpc.block_number()
                self._advanced_in_a_row = 0
        else:
            self._advanced_in_a_row = 0
            if outcome is Outcome.REORGED:
                self.pacer.forget()
        self._slept = outcome is Outcome.WAITING or (outcome is Outcome.ADVANCED and self._slept)

    async def _catch_up(self, follower: Follower, queries: LogQueries, stop: asyncio.Event) -> None:
        """Read ranges up to `depth` below the head, each range's steps moving the cursor;
        the next range is read while the last one is written."""
        target = self.head - self.config.reorg_depth
        state = follower.state
        self._log.info("catching up", cursor=follower.cursor.number, target=target)
        reading = asyncio.ensure_future(
            self.reader.read(queries, follower.cursor.number + 1, target)
        )
        try:
            while True:
                read = await reading
                more = read.last < target and not stop.is_set()
                if more:
                    reading = asyncio.ensure_future(
                        self.reader.read(queries, read.last + 1, target)
                    )
                steps = await steps_of_range(
                    read, self.builder, state.reorged, self.config.confirmations, move_cursor=True
                )
                steps[0].events[:0] = self._still_unconfirmed(state)
                steps[-1].window_drop = list(state.window)
                for step in steps:
                    await self._renew_if_due()
                    await self.journal.commit(step, expected=follower.cursor, owner=self.owner)
                    state.cursor = step.cursor
                state.window = {block.number: block for block in steps[-1].window_set}
                if not more:
                    return
        finally:
            reading.cancel()  # a read ahead that is not needed now
            await asyncio.gather(reading, return_exceptions=True)

    def _still_unconfirmed(self, state: JournalState) -> list[Event]:
        """Confirmations of what the window's blocks above the confirmed height observed:
        the range read after them is deeper still, so they are confirmed first."""
        assert state.cursor is not None
        above = sorted(
            (b for b in state.window.values() if b.number > state.cursor.confirmed),
            key=lambda block: block.number,
        )
        return [o.confirmed(self.config.confirmations) for b in above for o in b.observations]
