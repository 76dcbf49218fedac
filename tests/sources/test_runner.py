"""Running a source: appending, stopping on request, failing cleanly, noticing silence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import pytest

from events.catalog import PriceTick, SourceStarted, SourceStopped
from events.store import EventStore
from sources.errors import SourceInputError
from sources.publisher import SourceStatus
from sources.runner import run_source
from sources.simulator import MarketSimulator, SimulatorConfig
from sources.source import PriceSource
from tests.polling import wait_until
from tests.sources.support import FakeClock, stored, stored_stale, stored_ticks


class ScriptedSource:
    """A source that yields the batches it is given, then fails or waits forever."""

    name = "scripted"
    venue = "test"
    simulated = False
    total = None

    def __init__(
        self,
        batches: list[list[PriceTick]],
        *,
        symbols: tuple[str, ...] = (),
        error: Exception | None = None,
    ) -> None:
        self.script = batches
        self.symbols = symbols
        self.error = error
        self.closed = 0

    async def open(self) -> None:
        """Nothing to check."""

    async def aclose(self) -> None:
        self.closed += 1

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        for batch in self.script:
            yield batch
        if self.error is not None:
            raise self.error
        await asyncio.Event().wait()


def tick(symbol: str, second: int) -> PriceTick:
    at = datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)
    return PriceTick(symbol=symbol, venue="test", price=10.0 + second, source_time=at)


async def test_a_live_source_runs_until_stopped_and_everything_it_said_is_stored(
    store: EventStore,
) -> None:
    clock = FakeClock()
    simulator = MarketSimulator(SimulatorConfig(rate_hz=10), clock=clock, sleep=clock.sleep)
    stop = asyncio.Event()
    seen: list[int] = []

    def observe(source: PriceSource, status: SourceStatus) -> None:
        seen.append(status.ticks)
        if status.ticks >= 30:
            stop.set()

    status = await run_source(simulator, store, stop=stop, observer=observe)
    assert status.ticks == status.new >= 30
    assert seen == sorted(seen)
    stored = await stored_ticks(store)
    assert len(stored) == status.ticks
    assert all(t.simulated for t in stored)
    assert set(status.last) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}


async def test_a_failing_source_raises_its_error_and_is_closed(store: EventStore) -> None:
    source = ScriptedSource([[tick("BTC/USDT", 1)]], error=SourceInputError("gone"))
    with pytest.raises(SourceInputError, match="gone"):
        await run_source(source, store, stop=asyncio.Event())
    assert source.closed == 1
    assert len(await stored_ticks(store)) == 1


async def test_cancelling_the_run_closes_the_source(store: EventStore) -> None:
    source = ScriptedSource([[tick("BTC/USDT", 1)]])
    task = asyncio.create_task(run_source(source, store, stop=asyncio.Event()))
    await wait_until(lambda: _has_ticks(store))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.closed == 1


async def test_symbols_the_source_went_quiet_about_are_reported(store: EventStore) -> None:
    source = ScriptedSource([[tick("BTC/USDT", 1)]], symbols=("BTC/USDT", "ETH/USDT"))
    stop = asyncio.Event()
    task = asyncio.create_task(run_source(source, store, stop=stop, stale_after_s=0.2))

    async def both_stale() -> bool:
        return len(await stored_stale(store)) == 2

    await wait_until(both_stale)
    stop.set()
    status = await task
    stale = await stored_stale(store)
    assert sorted(s.symbol for s in stale) == ["BTC/USDT", "ETH/USDT"]
    by_symbol = {s.symbol: s for s in stale}
    assert by_symbol["BTC/USDT"].last_tick_at == tick("BTC/USDT", 1).source_time
    assert by_symbol["ETH/USDT"].last_tick_at is None
    assert status.stale_events == 2


async def test_a_run_records_what_it_covers_from_its_start_to_its_end(store: EventStore) -> None:
    source = ScriptedSource([[tick("BTC/USDT", 1)]], symbols=("BTC/USDT", "ETH/USDT"))
    stop = asyncio.Event()
    task = asyncio.create_task(run_source(source, store, stop=stop))
    await wait_until(lambda: _has_ticks(store))
    started = await stored(store, SourceStarted)
    assert sorted((s.source, s.venue, s.symbol) for s in started) == [
        ("scripted", "test", "BTC/USDT"),
        ("scripted", "test", "ETH/USDT"),
    ]
    assert await stored(store, SourceStopped) == []
    stop.set()
    await task
    stopped = await stored(store, SourceStopped)
    assert sorted(s.symbol for s in stopped) == ["BTC/USDT", "ETH/USDT"]
    assert {s.run_id for s in stopped} == {s.run_id for s in started}


async def test_a_failing_run_withdraws_its_coverage_too(store: EventStore) -> None:
    source = ScriptedSource([], symbols=("BTC/USDT",), error=SourceInputError("gone"))
    with pytest.raises(SourceInputError):
        await run_source(source, store, stop=asyncio.Event())
    assert [s.symbol for s in await stored(store, SourceStopped)] == ["BTC/USDT"]


async def test_each_run_is_its_own(store: EventStore) -> None:
    for _ in range(2):
        source = ScriptedSource([], symbols=("BTC/USDT",), error=SourceInputError("done"))
        with pytest.raises(SourceInputError):
            await run_source(source, store, stop=asyncio.Event())
    runs = {s.run_id for s in await stored(store, SourceStarted)}
    assert len(runs) == 2


async def _has_ticks(store: EventStore) -> bool:
    return bool(await stored_ticks(store))
