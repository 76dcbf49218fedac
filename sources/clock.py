"""Time as sources see it, injectable so that tests decide what time it is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits for a number of seconds (cancellable)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


async def real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
