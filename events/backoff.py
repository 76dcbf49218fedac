"""How long to wait before trying again: one exponential backoff for all of Impressox.

Every retry here waits ``min(max_s, first_s * 2**(n-1))`` after failure number n, drawn
at random below that ceiling where many processes may retry the same server at once:

- ``"none"``: the ceiling itself. For waiting out an outage of our own Redis or MongoDB
  (one waiter per process, nobody to fall in step with) and restarting a server.
- ``"half"``: between half the ceiling and all of it. The jitter keeps many restarted
  partitions or sources from hammering a recovering venue in step; the lower half keeps
  a retry from coming straight back.
- ``"full"``: anywhere from 0 to the ceiling (AWS's "full jitter"), where retries of many
  deliveries or requests should spread out most.

The arithmetic is tenacity's (`wait_exponential`, `wait_random_exponential`), not a
formula of ours: the same strategies drive `tenacity.AsyncRetrying` where a loop is a
plain "call this again" (`Backoff.wait`), and `Backoff.delay_s` gives the delay for
loops that do more between tries (log an outage once, dead-letter, honour Retry-After).
Lives in `events`, the lowest layer, so every package (bots too) can use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from tenacity import RetryCallState, Retrying
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

Jitter = Literal["none", "half", "full"]

_NO_RETRYING = Retrying()
"""Tenacity's strategies read the attempt number off a call state, which names a retrier."""


@dataclass
class Backoff:
    """Delays after consecutive failures: `first_s`, doubling up to `max_s`, jittered.

    `delay_s(n)` is the delay after failure number n (1-based) for a caller that counts
    its own failures; `next_delay()` / `reset()` count them here, for a loop that
    keeps one `Backoff` across calls.
    """

    first_s: float
    max_s: float = math.inf
    jitter: Jitter = "none"
    failures: int = 0
    """Failures since the last success (`next_delay` counts them, `reset` clears them)."""
    wait: wait_base = field(init=False, repr=False, compare=False)
    """The tenacity strategy, for `AsyncRetrying(wait=...)`."""

    def __post_init__(self) -> None:
        self.wait = strategy(self.first_s, self.max_s, self.jitter)

    def delay_s(self, attempt: int) -> float:
        """The delay after failed attempt number `attempt` (1-based)."""
        state = RetryCallState(_NO_RETRYING, None, (), {})
        state.attempt_number = attempt
        return float(self.wait(state))

    def next_delay(self) -> float:
        """The delay before the next attempt, counting this failure."""
        self.failures += 1
        return self.delay_s(self.failures)

    def reset(self) -> None:
        """A success: the next failure starts from `first_s` again."""
        self.failures = 0


def strategy(first_s: float, max_s: float, jitter: Jitter) -> wait_base:
    """Tenacity's wait for ``min(max_s, first_s * 2**(n-1))`` with `jitter`."""
    if jitter == "full":
        return wait_random_exponential(multiplier=first_s, max=max_s)
    if jitter == "half":  # half the ceiling, plus a full-jitter draw below the other half
        return wait_exponential(multiplier=first_s / 2, max=max_s / 2) + wait_random_exponential(
            multiplier=first_s / 2, max=max_s / 2
        )
    return wait_exponential(multiplier=first_s, max=max_s)
