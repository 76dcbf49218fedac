"""When to try a failed delivery again: exponential backoff, full jitter, Retry-After.

Attempt n (1-based) that failed transiently is followed by a wait drawn uniformly from
``[0, min(backoff_max, backoff * 2**(n-1))]`` ("full jitter": retries of many deliveries
spread out instead of arriving together). When the channel said how long to wait (a
429's Retry-After, Telegram's ``retry_after``, Discord's ``retry_after``), the wait is at
least that long: sooner would only be refused again, and may extend the penalty.

Waiting holds the alert's partition, so all waits of one alert share a budget
(`wait_max_s`): a wait that would overrun it is not taken, and the delivery is given up
(recorded as failed, then dead-lettered for an operator to retry).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

Jitter = Callable[[float], float]
"""Given a ceiling in seconds, a wait between 0 and it."""


def full_jitter(ceiling: float) -> float:
    return random.uniform(0, ceiling)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    wait_max_s: float = 15.0
    jitter: Jitter = field(default=full_jitter, compare=False)

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        """How long to wait after failed attempt number `attempt`."""
        ceiling = min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1))
        backoff = self.jitter(ceiling)
        return backoff if retry_after_s is None else max(retry_after_s, backoff)
