"""Helpers for source tests: a clock tests move by hand, and reading ticks back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from events.catalog import CatalogPayload, PriceTick, SourceStale
from events.store import EventStore

Item = TypeVar("Item")
Stored = TypeVar("Stored", bound=CatalogPayload)

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


class Batched(Protocol[Item]):
    """A source as tests drive it: price and post sources alike."""

    async def open(self) -> None: ...

    def batches(self) -> AsyncGenerator[list[Item], None]: ...

    async def aclose(self) -> None: ...


async def take(source: Batched[Item], batches: int) -> list[list[Item]]:
    """Open `source`, take its first `batches` batches (fewer if it ends), close it."""
    taken: list[list[Item]] = []
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


async def stored(store: EventStore, payload: type[Stored]) -> list[Stored]:
    """Every `payload` event of its category, in stream order."""
    found = []
    async for recorded in store.read_category(payload.category, types=[payload.event_type]):
        assert isinstance(recorded.event.payload, payload)
        found.append(recorded.event.payload)
    return found


async def stored_ticks(store: EventStore) -> list[PriceTick]:
    return await stored(store, PriceTick)


async def stored_stale(store: EventStore) -> list[SourceStale]:
    return await stored(store, SourceStale)
