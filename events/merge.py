"""Merging ordered event iterators (one per partition) into one ordered iterator."""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Sequence

from events.envelope import RecordedEvent


async def merge_by_position(
    readers: Sequence[AsyncIterator[RecordedEvent]], *, reverse: bool = False
) -> AsyncIterator[RecordedEvent]:
    """Yield from every reader in position order (ties broken by reader order).

    Each reader must already be ordered; only one event per reader is held at a time,
    so merging a long history uses memory for the readers' pages, not the history.
    """
    sign = -1 if reverse else 1
    heap: list[tuple[int, int, int, RecordedEvent]] = []
    for index, reader in enumerate(readers):
        first = await anext(reader, None)
        if first is not None:
            heap.append(_entry(first, index, sign))
    heapq.heapify(heap)
    while heap:
        _, _, index, recorded = heapq.heappop(heap)
        yield recorded
        following = await anext(readers[index], None)
        if following is not None:
            heapq.heappush(heap, _entry(following, index, sign))


def _entry(recorded: RecordedEvent, index: int, sign: int) -> tuple[int, int, int, RecordedEvent]:
    position = recorded.position
    return (sign * position.ms, sign * position.seq, index, recorded)
