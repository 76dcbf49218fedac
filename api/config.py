"""What the routes read of the configuration, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiConfig:
    max_wait_s: float
    """Longest a command waits for its read model to show it (`?wait=`)."""
    ready_max_lag: int
    """Entries a read model may lag behind before /readyz says not ready."""
    stall_after_s: float
    """How long a partition may wait without advancing before it counts as stalled."""
    ws_queue_size: int
    ws_messages_per_minute: int
    ws_message_burst: int
