"""What every price source must do, checked once per implementation.

Subclass `SourceContract`, implement `create_source()` (and `rewind()` when the source
reads from something that moves on), and each test below runs against it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from datetime import datetime

from events.catalog import PriceTick
from events.store import EventStore
from sources.runner import run_source
from sources.source import PriceSource
from sources.tick import tick_event
from tests.sources.support import stored_ticks, take

BATCHES = 3


class SourceContract(ABC):
    """The contract tests. `create_source` gets a fresh source over the same input."""

    @abstractmethod
    def create_source(self) -> PriceSource: ...

    @abstractmethod
    def rewind(self) -> None:
        """Make the input what it was for the first source (a venue's clock, a file)."""

    async def _run(self, store: EventStore) -> tuple[int, int]:
        """Run a fresh source until it has yielded `BATCHES` batches; (ticks, new)."""
        source = _Limited(self.create_source(), BATCHES)
        status = await run_source(source, store, stop=asyncio.Event())
        return status.ticks, status.new

    async def test_yields_valid_ticks_of_its_venue_and_labels(self) -> None:
        source = self.create_source()
        batches = await take(source, BATCHES)
        ticks = [tick for batch in batches for tick in batch]
        assert ticks, "the source yielded no tick"
        assert all(isinstance(tick, PriceTick) for tick in ticks)
        assert {tick.simulated for tick in ticks} == {source.simulated}
        if source.symbols:
            assert {tick.symbol for tick in ticks} <= set(source.symbols)
            assert {tick.venue for tick in ticks} == {source.venue}

    async def test_source_times_only_move_forward_per_symbol(self) -> None:
        batches = await take(self.create_source(), BATCHES)
        last: dict[str, datetime] = {}
        for tick in (tick for batch in batches for tick in batch):
            if tick.symbol in last:
                assert tick.source_time > last[tick.symbol]
            last[tick.symbol] = tick.source_time

    async def test_events_are_keyed_by_symbol_with_stable_ids(self) -> None:
        first = await take(self.create_source(), BATCHES)
        self.rewind()
        again = await take(self.create_source(), BATCHES)
        ids = [tick_event(tick).event_id for batch in first for tick in batch]
        assert ids == [tick_event(tick).event_id for batch in again for tick in batch]
        assert len(set(ids)) == len(ids)
        for tick in (tick for batch in first for tick in batch):
            assert tick_event(tick).key == tick.symbol

    async def test_a_restarted_source_appends_no_duplicates(self, store: EventStore) -> None:
        ticks, new = await self._run(store)
        assert ticks > 0
        assert new == ticks
        self.rewind()
        ticks_again, new_again = await self._run(store)
        assert ticks_again == ticks
        assert new_again == 0
        assert len(await stored_ticks(store)) == ticks


class _Limited:
    """A source cut off after a number of batches, so a live feed ends in a test."""

    def __init__(self, inner: PriceSource, batches: int) -> None:
        self.inner = inner
        self.limit = batches
        self.name, self.venue, self.simulated = inner.name, inner.venue, inner.simulated

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.inner.symbols

    @property
    def total(self) -> int | None:
        return self.inner.total

    async def open(self) -> None:
        await self.inner.open()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        count = 0
        async for batch in self.inner.batches():
            yield batch
            count += 1
            if count == self.limit:
                return
