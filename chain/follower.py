"""Following a chain's head block by block: observe, confirm, and walk back on a reorg.

The cursor is (number, hash) of the last block read. Each step reads the block after it:

1. None there: the chain has not grown (or this node is behind): wait.
2. Its parent hash is the cursor's hash: observe what is watched in it (the logs its
   bloom allows asking for, by its hash; native transfers from its transactions),
   confirm the observations of the block that is now `confirmations` deep, and move the
   cursor, in one atomic step (`chain.journal`).
3. Another parent: maybe a reorg. Walk down the window of recent blocks, asking the
   node for its block at each height, until the hashes agree: that is the common
   ancestor. Retract every observation above it (after confirmation too, for a reorg
   deeper than the confirmations), move the cursor back to it, and read the new
   canonical blocks forward from there in the next steps.

What is never a reorg: a node that has no block at a height yet (lagging, syncing, or a
load balancer's other node), a `getLogs` that does not know the block's hash yet, or a
walk that finds our own head still canonical (two nodes a block apart answered the two
questions). Each is "wait and ask again", with nothing written. A reorg deeper than the
window (`depth` blocks) stops the watcher: what it confirmed there may be wrong, and an
operator must look (`DeepReorgError`).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Any

import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from chain.blocks import ZERO_HASH, Block, Log, unique_logs
from chain.errors import BlockUnavailableError, DeepReorgError
from chain.journal import ChainJournal, Cursor, JournalState, Step, WindowBlock
from chain.natives import native_transfers
from chain.observations import Observation, RecordBuilder, observation_id
from chain.queries import TRANSFER_TOPIC, LogQueries
from chain.rpc import ChainRpc
from events.backoff import Backoff
from events.envelope import Event

log = structlog.get_logger(__name__)

UNKNOWN_BLOCK_RETRIES = 4
UNKNOWN_BLOCK_BACKOFF = Backoff(0.05)
"""Between tries of a block the node does not know yet: 50, 100, 200 ms (a load
balancer's next node usually knows it by then)."""


class Outcome(enum.Enum):
    ADVANCED = "advanced"
    """A block was read and the cursor moved onto it."""
    WAITING = "waiting"
    """Nothing new (or nothing certain) yet: ask again later."""
    REORGED = "reorged"
    """A reorg was found: observations retracted, the cursor moved back."""


@dataclass
class Follower:
    """Follows one chain from `state`, writing through `journal` under `owner`'s lease."""

    rpc: ChainRpc
    journal: ChainJournal
    builder: RecordBuilder
    state: JournalState
    confirmations: int
    depth: int
    owner: str
    last_timestamp: int | None = None
    """The timestamp of the last block read (for pacing the polls)."""

    def __post_init__(self) -> None:
        if not 1 <= self.confirmations <= self.depth:
            raise ValueError(
                f"confirmations ({self.confirmations}) must be 1 or more and at most the"
                f" reorg depth ({self.depth})"
            )

    @property
    def cursor(self) -> Cursor:
        assert self.state.cursor is not None, "the watcher starts the follower with a cursor"
        return self.state.cursor

    async def step(self, queries: LogQueries) -> Outcome:
        """Read the block after the cursor (see the module's docstring)."""
        cursor = self.cursor
        number = cursor.number + 1
        block = await self.rpc.block(number, transactions=bool(queries.targets.wallets))
        if block is None:
            return Outcome.WAITING
        if block.parent_hash != cursor.hash:
            return await self._walk_back()
        try:
            observations = await self._observe(block, queries)
        except BlockUnavailableError as error:
            log.info("block not on this node yet", number=number, error=str(error))
            return Outcome.WAITING
        confirm_upto = number - self.confirmations + 1
        fresh = WindowBlock(number, block.hash, block.parent_hash, observations)
        events: list[Event] = [observation.observed() for observation in observations]
        for settled in self._blocks_between(cursor.confirmed, confirm_upto, fresh):
            events += [o.confirmed(self.confirmations) for o in settled.observations]
        moved = Cursor(number, block.hash, max(cursor.confirmed, confirm_upto))
        dropped = [n for n in self.state.window if n <= number - self.depth]
        step = Step(events, moved, window_set=[fresh], window_drop=dropped)
        await self.journal.commit(step, expected=cursor, owner=self.owner)
        self.state.cursor = moved
        self.state.window[number] = fresh
        self.last_timestamp = block.timestamp
        for gone in dropped:
            del self.state.window[gone]
        return Outcome.ADVANCED

    def _blocks_between(self, after: int, upto: int, fresh: WindowBlock) -> list[WindowBlock]:
        """Window blocks (and the fresh one) above `after`, up to `upto`, in order."""
        blocks = [*self.state.window.values(), fresh]
        return sorted((b for b in blocks if after < b.number <= upto), key=lambda b: b.number)

    async def _observe(self, block: Block, queries: LogQueries) -> list[Observation]:
        filters = queries.for_block(block.hash, block.logs_bloom)
        batches = await asyncio.gather(*(self._logs(query) for query in filters))
        logs = [entry for entry in unique_logs(batches) if queries.keeps(entry)]
        natives = await native_transfers(self.rpc, block, queries.targets.wallets)
        tokens = {log.address for log in logs if log.topics and log.topics[0] == TRANSFER_TOPIC}
        await self.builder.learn(tokens, natives=bool(natives))
        records = [self.builder.of_log(entry, block.timestamp) for entry in logs]
        records += [self.builder.of_native(transaction, block) for transaction in natives]
        incarnation = self.state.reorged.get(block.hash, 0)
        chain_id = self.builder.chain_id
        return [
            Observation(
                observation_id(chain_id, block.hash, r.tx_hash, r.log_index, incarnation), r
            )
            for r in records
        ]

    async def _logs(self, query: dict[str, Any]) -> list[Log]:
        """A block's logs by its hash, asked again a few times while the node answering
        does not know the block yet (behind a load balancer, the next one may)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(BlockUnavailableError),
            stop=stop_after_attempt(UNKNOWN_BLOCK_RETRIES),
            wait=UNKNOWN_BLOCK_BACKOFF.wait,
            reraise=True,  # the node's own error, not tenacity's RetryError
        )
        logs: list[Log] = await retrying(self.rpc.logs, query)
        return logs

    async def _walk_back(self) -> Outcome:
        """Find the common ancestor and retract what was observed above it."""
        cursor = self.cursor
        window = self.state.window
        height = cursor.number
        while height >= 0:  # below block 0 is the zero hash, every chain's ancestor
            ours = window.get(height)
            if ours is None:
                raise DeepReorgError(
                    f"chain {self.builder.chain_id}: a reorg reaches below block {height + 1},"
                    f" deeper than the {self.depth} blocks kept (IMPRESSOX_CHAIN_REORG_DEPTH);"
                    " what was confirmed there may be wrong: stopped"
                )
            canonical = await self.rpc.block(height)
            if canonical is None:
                return Outcome.WAITING  # this node is behind our cursor: not a reorg
            if canonical.hash == ours.hash:
                break
            height -= 1
        if height == cursor.number:
            return Outcome.WAITING  # our head is canonical: two nodes answered differently
        orphaned = sorted(
            (b for b in window.values() if b.number > height), key=lambda b: -b.number
        )
        events = [
            observation.retracted(height, after_confirmation=block.number <= cursor.confirmed)
            for block in orphaned
            for observation in reversed(block.observations)
        ]
        ancestor_hash = window[height].hash if height >= 0 else ZERO_HASH
        moved = Cursor(height, ancestor_hash, min(cursor.confirmed, height))
        step = Step(
            events,
            moved,
            window_drop=[block.number for block in orphaned],
            reorged=[block.hash for block in orphaned],
        )
        await self.journal.commit(step, expected=cursor, owner=self.owner)
        log.warning(
            "reorg: observations retracted",
            chain_id=self.builder.chain_id,
            ancestor=height,
            blocks=len(orphaned),
            retracted=len(events),
        )
        self.state.cursor = moved
        for block in orphaned:
            del window[block.number]
            self.state.reorged[block.hash] = self.state.reorged.get(block.hash, 0) + 1
        return Outcome.REORGED
