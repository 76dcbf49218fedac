"""Backfill: reading confirmed blocks in ranges, and writing them as atomic steps.

Blocks at least `confirmations` deep are observed and confirmed at once (they are as
settled as the watcher will ever wait for). Two callers:

- the watcher catching up (far behind the head after a pause, or starting from an old
  block): each range's steps move its cursor, so the hand-over to following the head
  block by block has no gap: following starts at the block after the last range;
- `impressox chain backfill` (`backfill`): blocks already followed, for targets added
  since (a new wallet's history); its steps touch no cursor, and since event ids derive
  from the blocks, re-reading what the watcher wrote appends nothing twice.

A range's events are cut into steps of at most `max_events`, at block boundaries, so
one script never carries more than Redis should run at once; a step's cursor is the last
block it holds, whose hash its logs carry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from chain.journal import ANY_CURSOR, ChainJournal, Cursor, Step, WindowBlock
from chain.observations import Observation, RecordBuilder, observation_id
from chain.queries import TRANSFER_TOPIC, LogQueries
from chain.ranges import RangeRead, RangeReader
from events.catalog.chain import ChainRecord
from events.envelope import Event

MAX_EVENTS_PER_STEP = 5_000
"""Events per atomic step: the store's own batches stop at 10,000."""


async def steps_of_range(
    read: RangeRead,
    builder: RecordBuilder,
    reorged: dict[str, int],
    confirmations: int,
    *,
    move_cursor: bool,
    max_events: int = MAX_EVENTS_PER_STEP,
) -> list[Step]:
    """The steps writing one range read: observed and confirmed, in chain order.

    With `move_cursor`, each step moves the cursor to its last block, and the last step
    makes the range's last block the whole window (the reorg walk starts there)."""
    await builder.tokens.learn(
        {log.address for log in read.logs if log.topics and log.topics[0] == TRANSFER_TOPIC}
    )
    steps: list[Step] = []
    events: list[Event] = []
    last_hash = ""
    last_number = read.first - 1
    for number, block_hash, records in _records_by_block(read, builder):
        if events and len(events) + 2 * len(records) > max_events:
            steps.append(_step(events, last_number, last_hash, move_cursor))
            events = []
        incarnation = reorged.get(block_hash, 0)
        for record in records:
            observation = Observation(
                observation_id(
                    builder.chain_id, block_hash, record.tx_hash, record.log_index, incarnation
                ),
                record,
            )
            events += (observation.observed(), observation.confirmed(confirmations))
        last_number, last_hash = number, block_hash
    final = _step(events, read.last, read.last_block.hash, move_cursor)
    if move_cursor:
        block = read.last_block
        final.window_set = [WindowBlock(block.number, block.hash, block.parent_hash)]
    steps.append(final)
    return steps


def _records_by_block(
    read: RangeRead, builder: RecordBuilder
) -> list[tuple[int, str, list[ChainRecord]]]:
    """(number, hash, records) of each block with something watched, in chain order:
    its logs, then its native transfers."""
    blocks: dict[int, tuple[str, list[ChainRecord]]] = {}
    for number, in_block in groupby(read.logs, key=lambda log: log.block_number):
        logs = list(in_block)
        time = read.times.get(number)
        blocks[number] = (logs[0].block_hash, [builder.of_log(log, time) for log in logs])
    for block, transaction in read.natives:
        held = blocks.setdefault(block.number, (block.hash, []))
        held[1].append(builder.of_native(transaction, block))
    return [(number, *blocks[number]) for number in sorted(blocks)]


def _step(events: list[Event], number: int, block_hash: str, move_cursor: bool) -> Step:
    return Step(events, Cursor(number, block_hash, number) if move_cursor else None)


@dataclass
class BackfillResult:
    first: int
    last: int
    logs: int
    new_events: int


async def backfill(
    *,
    reader: RangeReader,
    journal: ChainJournal,
    builder: RecordBuilder,
    queries: LogQueries,
    first: int,
    last: int,
    confirmations: int,
    progress: Callable[[int], None] | None = None,
) -> BackfillResult:
    """Observe and confirm what `queries` find in blocks `first` to `last` (confirmed
    blocks: the caller checks), without touching the watcher's cursor."""
    state = await journal.load()
    result = BackfillResult(first, last, 0, 0)
    start = first
    while start <= last:
        read = await reader.read(queries, start, last)
        steps = await steps_of_range(read, builder, state.reorged, confirmations, move_cursor=False)
        for step in steps:
            result.new_events += await journal.commit(step, expected=ANY_CURSOR, owner="")
        result.logs += len(read.logs)
        if progress is not None:
            progress(read.last - start + 1)
        start = read.last + 1
    return result
