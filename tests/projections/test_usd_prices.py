"""Tokens' USD prices from the prices read model: what the chain watcher's transfers carry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from events.catalog import PriceTick
from events.envelope import Event, RecordedEvent
from events.store import EventStore
from projections.generations import Generation
from projections.model import Document
from projections.projector import Projector
from projections.reader import ReadModels
from projections.readmodels.prices import Prices
from projections.usd_prices import ReadModelPrices


@pytest.fixture
async def database(mongo_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"db_{prefix}"]
    await client.drop_database(f"db_{prefix}")
    await client.close()


async def test_a_symbol_is_priced_by_its_latest_dollar_pair_and_stablecoins_at_par(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    projection = Prices()
    projector = Projector(projection, database[Generation(Prices.name, 1).collection])
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for symbol, venue, price in (
        ("ETH/USDT", "binance", 3_000.0),
        ("ETH/USDT", "kraken", 3_010.0),  # the latest of any venue
        ("SOL/BTC", "binance", 0.002),  # not a dollar pair
    ):
        event = Event(
            key=symbol, payload=PriceTick(symbol=symbol, venue=venue, price=price, source_time=at)
        )
        (result,) = await store.append_batch("ticks", [event])
        await projector.handle_batch([RecordedEvent(result.stream, result.position, event)])
    prices = ReadModelPrices(ReadModels(database, [projection], cache_s=0))
    assert await prices.usd_prices(["ETH", "USDC", "SOL", "tUSD"]) == {"ETH": 3_010.0, "USDC": 1.0}
