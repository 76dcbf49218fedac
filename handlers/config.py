"""How the runtime behaves: batch sizes, retries, leases, shutdown. Built from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from events.backoff import Backoff


@dataclass(frozen=True)
class RuntimeConfig:
    """The runtime's knobs; `impressox.settings.Settings` documents each of them."""

    batch_size: int = 256
    block_ms: int = 2000
    max_deliveries: int = 5
    retry_backoff_ms: int = 200
    retry_backoff_max_ms: int = 10_000
    handler_timeout_s: float = 30.0
    lease_ttl_ms: int = 10_000
    shutdown_timeout_s: float = 15.0

    @property
    def renew_interval_s(self) -> float:
        """Leases are renewed three times per time-to-live, so one missed beat is harmless."""
        return self.lease_ttl_ms / 3000

    def retry_delay_s(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt`: exponential, half-jittered (the
        partitions of one handler failing on the same dependency do not retry in step)."""
        return self._retry_backoff.delay_s(attempt)

    @cached_property
    def _retry_backoff(self) -> Backoff:
        return Backoff(self.retry_backoff_ms / 1000, self.retry_backoff_max_ms / 1000, "half")
