"""When to try a failed delivery again: exponential backoff, full jitter, Retry-After.

Attempt n (1-based) that failed transiently is followed by a wait drawn uniformly from
``[0, min(backoff_max, backoff * 2**(n-1))]`` ("full jitter": retries of many deliveries
spread out instead of arriving together), by the shared `events.backoff.Backoff`. When
the channel said how long to wait (a 429's Retry-After, Telegram's ``retry_after``,
Discord's ``retry_after``), the wait is at least that long: sooner would only be refused
again, and may extend the penalty.

Waiting holds the alert's partition, so all waits of one alert share a budget
(`wait_max_s`): a wait that would overrun it is not taken, and the delivery is given up
(recorded as failed, then dead-lettered for an operator to retry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from events.backoff import Backoff

Jitter = Callable[[float], float]
"""Given a ceiling in seconds, a wait between 0 and it: for a test to fix the draw."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    wait_max_s: float = 15.0
    jitter: Jitter | None = field(default=None, compare=False)
    """None: full jitter, drawn by the shared `Backoff`; a test may fix the draw here."""

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        """How long to wait after failed attempt number `attempt`."""
        if self.jitter is None:
            backoff = self._full_jitter.delay_s(attempt)
        else:
            backoff = self.jitter(self._ceiling.delay_s(attempt))
        return backoff if retry_after_s is None else max(retry_after_s, backoff)

    @cached_property
    def _full_jitter(self) -> Backoff:
        return Backoff(self.backoff_s, self.backoff_max_s, "full")

    @cached_property
    def _ceiling(self) -> Backoff:
        return Backoff(self.backoff_s, self.backoff_max_s)
