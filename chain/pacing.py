"""When to ask the node for the next block, once the watcher has caught up with it.

Polling at a fixed interval trades calls for latency: every poll before the block exists
is a call for nothing, every moment after it exists is delay. Most chains make blocks on
a clock (Ethereum a slot every 12 s, Base every 2 s), and a block's timestamp is its
slot's time. So the pacer learns two things from the blocks it finds at the head: the
chain's pace (the median gap between their timestamps) and how long after its timestamp
a block is there to be read (the least delay seen lately: the others include the time
the block waited for the watcher's poll). It then sleeps until the next block should be
there, and polls every `interval_s` from then on until it is: about one call per block,
and little delay. Until it knows the pace, or on a chain whose blocks come when
transactions do (two blocks with one timestamp), it polls every `interval_s`.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

KEPT = 9
"""Recent blocks the pace and the delay are learnt from."""
MIN_GAPS = 3
"""Gaps between blocks seen before the pace is trusted."""
LONGEST_SLEEP_S = 30.0
"""However slow the chain, look at least this often (a stalled chain, a changed pace)."""


@dataclass
class PollPacer:
    interval_s: float
    clock: Callable[[], float] = time.time
    """Wall-clock time: compared with block timestamps."""
    _gaps: deque[int] = field(default_factory=lambda: deque(maxlen=KEPT))
    _delays: deque[float] = field(default_factory=lambda: deque(maxlen=KEPT))
    _last_timestamp: int | None = None

    def block_arrived(self, timestamp: int) -> None:
        """The watcher read a new block at the head, with this timestamp, just now."""
        if self._last_timestamp is not None:
            self._gaps.append(timestamp - self._last_timestamp)
        self._delays.append(self.clock() - timestamp)
        self._last_timestamp = timestamp

    def forget(self) -> None:
        """The watcher fell behind, or a reorg came: learn the pace again."""
        self._last_timestamp = None

    def until_due_s(self) -> float:
        """How long to sleep after a block found at the head before asking for the next:
        until it should be there (0 when the pace is not known, or it is overdue)."""
        due = self._due()
        return 0.0 if due is None else min(LONGEST_SLEEP_S, max(0.0, due - self.clock()))

    def wait_s(self) -> float:
        """How long to sleep before the next poll, the last one having found nothing."""
        due = self._due()
        if due is None:
            return self.interval_s
        return min(LONGEST_SLEEP_S, max(self.interval_s, due - self.clock()))

    def _due(self) -> float | None:
        """When the next block should be there to read, just after; None: not known, or
        not on a clock (two blocks with one timestamp: they come with transactions)."""
        if self._last_timestamp is None or len(self._gaps) < MIN_GAPS or min(self._gaps) < 1:
            return None
        due = self._last_timestamp + statistics.median(self._gaps) + min(self._delays)
        return due + min(self.interval_s / 2, 0.05)  # just after, rather than just before
