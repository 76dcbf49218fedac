"""When to ask the node for the next block, once the watcher has caught up with it.

Polling at a fixed interval trades calls for latency: every poll before the block exists
is a call for nothing, every moment after it exists is delay. Blocks come at a steady
pace on most chains (12 s on Ethereum, 2 s on Base), so the pacer learns the pace from
the gaps between the blocks it saw arrive, sleeps until shortly before the next one is
due, and then polls every `interval_s` until it is there: one or two empty polls per
block, and at most `interval_s` of delay. Until it knows the pace (or on a chain whose
blocks come when transactions do) it polls every `interval_s`.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

GAPS_KEPT = 9
LONGEST_SLEEP_S = 30.0
"""However slow the chain, look at least this often (a stalled chain, a changed pace)."""


@dataclass
class PollPacer:
    interval_s: float
    clock: Callable[[], float] = time.monotonic
    _gaps: deque[float] = field(default_factory=lambda: deque(maxlen=GAPS_KEPT))
    _last_arrival: float | None = None

    def block_arrived(self) -> None:
        """The watcher just read a new block at the head (not one it was catching up on)."""
        now = self.clock()
        if self._last_arrival is not None:
            self._gaps.append(now - self._last_arrival)
        self._last_arrival = now

    def forget(self) -> None:
        """The watcher fell behind, or a reorg came: the next arrival starts a new pace."""
        self._last_arrival = None

    def wait_s(self) -> float:
        """How long to sleep before the next poll, the last one having found nothing."""
        if self._last_arrival is None or len(self._gaps) < 2:
            return self.interval_s
        pace = statistics.median(self._gaps)
        due = self._last_arrival + pace - 2 * self.interval_s
        return min(LONGEST_SLEEP_S, max(self.interval_s, due - self.clock()))
