"""Helpers for source tests: a clock tests move by hand, and reading ticks back."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from events.catalog import PriceTick, SourceStale
from events.store import EventStore
from sources.source import PriceSource

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to, or when the code under test sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """Record the wait and let that much time pass at once."""
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


async def take(source: PriceSource, batches: int) -> list[list[PriceTick]]:
    """Open `source`, take its first `batches` batches (fewer if it ends), close it."""
    taken: list[list[PriceTick]] = []
    try:
        await source.open()
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                taken.append(batch)
                if len(taken) == batches:
                    break
    finally:
        await source.aclose()
    return taken


async def stored_ticks(store: EventStore) -> list[PriceTick]:
    """Every `price.tick` payload in the ticks category, in stream order."""
    ticks = []
    async for recorded in store.read_category("ticks", types=["price.tick"]):
        assert isinstance(recorded.event.payload, PriceTick)
        ticks.append(recorded.event.payload)
    return ticks


async def stored_stale(store: EventStore) -> list[SourceStale]:
    """Every `source.stale` payload in the ticks category."""
    stale = []
    async for recorded in store.read_category("ticks", types=["source.stale"]):
        assert isinstance(recorded.event.payload, SourceStale)
        stale.append(recorded.event.payload)
    return stale
