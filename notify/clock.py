"""The notifier's sense of time, injectable so tests can move it (quiet hours, holds)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""The current time, timezone-aware."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds (retry backoff, Retry-After, rate limits)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch: the score of a held delivery."""
    return int(moment.timestamp() * 1000)
