"""A source gone quiet about a symbol: one `source.stale` per silence, then recovery."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.catalog import PriceTick, SourceStale
from events.names import StreamNames
from events.store import EventStore
from sources.publisher import TickPublisher
from sources.staleness import StalenessWatch
from tests.sources.support import START, FakeClock, stored_stale


def tick(symbol: str, at: datetime) -> PriceTick:
    return PriceTick(symbol=symbol, venue="binance", price=1.0, source_time=at)


def payloads(watch: StalenessWatch, now: datetime) -> list[SourceStale]:
    events = watch.due(now)
    result = []
    for event in events:
        assert isinstance(event.payload, SourceStale)
        assert event.key == event.payload.symbol
        result.append(event.payload)
    return result


def test_each_silence_is_reported_once_and_a_new_price_ends_it() -> None:
    clock = FakeClock()
    watch = StalenessWatch("exchange", stale_after_s=60)
    watch.expect("binance", ("BTC/USDT", "ETH/USDT"), clock())
    clock.advance(59)
    assert watch.due(clock()) == []
    clock.advance(1)
    first = payloads(watch, clock())
    assert [(p.symbol, p.silent_since, p.last_tick_at) for p in first] == [
        ("BTC/USDT", START, None),
        ("ETH/USDT", START, None),
    ]
    assert watch.stale_symbols() == ["BTC/USDT", "ETH/USDT"]
    clock.advance(600)
    assert watch.due(clock()) == [], "the same silence is not reported again"

    recovered_at = clock()
    watch.observed(tick("BTC/USDT", recovered_at), clock())
    assert watch.stale_symbols() == ["ETH/USDT"]
    clock.advance(60)
    again = payloads(watch, clock())
    assert [(p.symbol, p.silent_since, p.last_tick_at) for p in again] == [
        ("BTC/USDT", recovered_at, recovered_at)
    ]
    assert again[0].at == clock()
    assert again[0].stale_after_s == 60


def test_a_repeated_price_is_not_news() -> None:
    clock = FakeClock()
    watch = StalenessWatch("exchange", stale_after_s=10)
    same = tick("BTC/USDT", START)
    watch.observed(same, clock())
    clock.advance(5)
    watch.observed(same, clock())
    clock.advance(5)
    assert [p.symbol for p in payloads(watch, clock())] == ["BTC/USDT"]


def test_a_silence_has_the_same_id_whoever_notices_it() -> None:
    ids: list[UUID] = []
    for _ in range(2):
        clock = FakeClock()
        watch = StalenessWatch("coingecko", stale_after_s=5)
        watch.expect("coingecko", ("BTC/USD",), clock())
        clock.advance(5 + len(ids))  # noticed at different moments
        ids.append(watch.due(clock())[0].event_id)
    assert ids[0] == ids[1]


async def test_stale_events_land_once_in_the_symbols_partition(
    store: EventStore, names: StreamNames
) -> None:
    clock = FakeClock()
    publisher = TickPublisher(store, "exchange", stale_after_s=30, clock=clock)
    publisher.expect("binance", ("BTC/USDT", "ETH/USDT"))
    await publisher.publish([tick("BTC/USDT", START)])
    clock.advance(20)
    await publisher.publish([tick("BTC/USDT", clock())])
    clock.advance(15)
    assert await publisher.check_staleness() == 1
    assert await publisher.check_staleness() == 0
    clock.advance(30)
    assert await publisher.check_staleness() == 1
    stale = await stored_stale(store)
    assert [(s.symbol, s.source) for s in stale] == [
        ("ETH/USDT", "exchange"),
        ("BTC/USDT", "exchange"),
    ]
    assert publisher.status.stale_events == 2
    assert publisher.status.stale == ["BTC/USDT", "ETH/USDT"]
    for symbol in ("ETH/USDT", "BTC/USDT"):
        stream = names.stream_for_key("ticks", symbol)
        types = [r.event.type async for r in store.read_stream(stream)]
        assert "source.stale" in types
