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
    for number, in_block in groupby(read.logs, key=lambda log: log.block_number):
        logs = list(in_block)
        if events and len(events) + 2 * len(logs) > max_events:
            steps.append(_step(events, last_number, last_hash, move_cursor))
            events = []
        for log in logs:
            record = builder.of_log(log)
            incarnation = reorged.get(log.block_hash, 0)
            observation = Observation(
                observation_id(
                    builder.chain_id, log.block_hash, log.tx_hash, log.log_index, incarnation
                ),
                record,
            )
            events += (observation.observed(), observation.confirmed(confirmations))
        last_number, last_hash = number, logs[0].block_hash
    final = _step(events, read.last, read.last_block.hash, move_cursor)
    if move_cursor:
        block = read.last_block
        final.window_set = [WindowBlock(block.number, block.hash, block.parent_hash)]
    steps.append(final)
    return steps


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
