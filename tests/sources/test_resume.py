"""Where a restarted simulator picks up: the last price recorded per symbol and venue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.catalog import PriceTick
from events.store import EventStore
from sources.publisher import TickPublisher
from sources.resume import last_prices

START = datetime(2026, 12, 1, tzinfo=UTC)


def tick(symbol: str, price: float, second: int, venue: str = "simulator") -> PriceTick:
    at = START + timedelta(seconds=second)
    return PriceTick(symbol=symbol, venue=venue, price=price, source_time=at, simulated=True)


async def test_the_last_price_of_each_symbol_on_the_venue_is_found(store: EventStore) -> None:
    publisher = TickPublisher(store, "simulator")
    await publisher.publish(
        [
            tick("BTC/USDT", 50_000.0, 0),
            tick("ETH/USDT", 3_000.0, 0),
            tick("BTC/USDT", 50_100.0, 1),
            tick("BTC/USDT", 101_000.0, 2, venue="manual"),  # another market
        ]
    )
    found = await last_prices(store, "simulator", ("BTC/USDT", "ETH/USDT", "SOL/USDT"))
    assert found == {"BTC/USDT": 50_100.0, "ETH/USDT": 3_000.0}
