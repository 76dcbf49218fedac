"""Sleeping in a loop that runs until stopped: one helper for every such loop."""

from __future__ import annotations

import asyncio


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`, waking as soon as `stop` is set; True if it was set (so the
    caller's loop ends now rather than after its pause)."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
