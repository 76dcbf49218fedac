"""Exponential backoff with jitter, for retrying a venue that is having trouble.

Each delay is drawn between half and all of its exponential cap: the jitter keeps many
restarted sources from hammering a recovering venue in step, the lower half keeps a
retry from coming back at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays for consecutive failures: `first_s`, doubling up to `max_s`, jittered."""

    first_s: float = 1.0
    max_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt, counting this failure."""
        cap = min(self.max_s, self.first_s * 2.0**self.failures)
        self.failures += 1
        return self.rng.uniform(cap / 2, cap)

    def reset(self) -> None:
        """A success: the next failure starts from `first_s` again."""
        self.failures = 0
