"""The read models of the streams: prices, candles, alerts, posts, notifications, chain.

Events are appended to the real store and read back, so each projection sees the
positions and payloads the runtime would hand it; batches go through `Projector`.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from events.catalog import (
    AlertTriggered,
    CatalogPayload,
    ChainLogObserved,
    Engagement,
    NotificationFailed,
    NotificationSent,
    PostScraped,
    PriceTick,
    SourceStarted,
    SourceStopped,
)
from events.envelope import Event, RecordedEvent
from events.store import EventStore
from projections.model import POSITION, Document, Projection
from projections.projector import Projector
from projections.readmodels.alert_history import AlertHistory
from projections.readmodels.candles import Candles
from projections.readmodels.chain_events import ChainEvents
from projections.readmodels.free_form import from_text
from projections.readmodels.notifications import Notifications
from projections.readmodels.posts import Posts
from projections.readmodels.price_coverage import PriceCoverage
from projections.readmodels.prices import Prices
from projections.readmodels.recent_alerts import RecentAlerts

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ADDRESS = "0x" + "Ab" * 20
USER = uuid.uuid4()


@pytest.fixture
async def database(mongo_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"db_{prefix}"]
    await client.drop_database(f"db_{prefix}")
    await client.close()


def tick(symbol: str, price: float, at: datetime, volume: float = 1.0) -> Event:
    payload = PriceTick(symbol=symbol, venue="test", price=price, volume=volume, source_time=at)
    return Event(payload=payload, key=symbol)


def chain_log(
    log_index: int, *, removed: bool = False, args: dict[str, Any] | None = None
) -> Event:
    payload = ChainLogObserved(
        chain_id=1,
        block_number=100 + log_index,
        block_hash="0x" + "b" * 64,
        tx_hash="0x" + "C" * 64,
        log_index=log_index,
        address=ADDRESS,
        event="Transfer",
        args=args or {},
        removed=removed,
    )
    return Event(payload=payload, key=payload.partition_key())


def catalog_event(payload: CatalogPayload) -> Event:
    return Event(payload=payload, key=payload.partition_key())


async def recorded(
    store: EventStore, category: str, events: Sequence[Event]
) -> list[RecordedEvent]:
    """`events` as appended, in stream order (one partition's order per key)."""
    await store.append_many(category, events)
    return [event async for event in store.read_category(category)]


async def documents(database: AsyncDatabase[Document], name: str) -> dict[str, Document]:
    return {d["_id"]: d async for d in database[name].find()}


def ohlcv(prices: list[tuple[float, float]]) -> dict[str, Any]:
    """The candle of (price, volume) pairs in stream order, computed the plain way."""
    return {
        "open": prices[0][0],
        "high": max(price for price, _ in prices),
        "low": min(price for price, _ in prices),
        "close": prices[-1][0],
        "volume": sum(volume for _, volume in prices),
        "ticks": len(prices),
    }


async def test_a_thousand_ticks_of_one_symbol_write_one_price_and_one_candle_per_minute(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    rng = random.Random(7)
    ticks = [
        tick(
            "BTC/USDT",
            round(rng.uniform(90_000, 110_000), 2),
            START + timedelta(seconds=n // 5),
            volume=rng.choice([0.5, 1.0, 2.0]),
        )
        for n in range(1000)
    ]
    batch = await recorded(store, "ticks", ticks)
    prices = Projector(Prices(), database["prices"])
    candles = Projector(Candles(), database["candles"])
    price_writes = await prices.replacements(touched(Prices(), batch))
    candle_writes = await candles.replacements(touched(Candles(), batch))
    assert len(price_writes) == 1
    assert len(candle_writes) == 4  # 200 seconds of ticks: minutes 0 to 3
    await prices.handle_batch(batch)
    await candles.handle_batch(batch)

    (latest,) = (await documents(database, "prices")).values()
    last = batch[-1]
    assert isinstance(last.event.payload, PriceTick)
    assert latest["price"] == last.event.payload.price
    assert latest["position"] == str(last.position)
    by_minute: dict[datetime, list[tuple[float, float]]] = {}
    for item in batch:
        payload = item.event.payload
        assert isinstance(payload, PriceTick)
        minute = payload.source_time.replace(second=0)
        by_minute.setdefault(minute, []).append((payload.price, payload.volume))
    found = await documents(database, "candles")
    assert sorted(found) == [f"BTC/USDT|test|{minute.isoformat()}" for minute in sorted(by_minute)]
    for minute, prices_in_minute in by_minute.items():
        candle = found[f"BTC/USDT|test|{minute.isoformat()}"]
        assert candle["minute"] == minute
        assert {field: candle[field] for field in ohlcv(prices_in_minute)} == ohlcv(
            prices_in_minute
        )


async def test_each_venue_has_its_own_price_and_candles(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    """A price posted by hand is listed beside the venue's, never in its place."""
    ticks = [
        tick("BTC/USDT", 100_000.0, START),
        replace_venue(tick("BTC/USDT", 101_000.0, START + timedelta(seconds=1)), "manual"),
        tick("BTC/USDT", 100_010.0, START + timedelta(seconds=2)),
    ]
    batch = await recorded(store, "ticks", ticks)
    await Projector(Prices(), database["prices"]).handle_batch(batch)
    await Projector(Candles(), database["candles"]).handle_batch(batch)
    prices = await documents(database, "prices")
    assert {key: price["price"] for key, price in prices.items()} == {
        "BTC/USDT|test": 100_010.0,
        "BTC/USDT|manual": 101_000.0,
    }
    candles = await documents(database, "candles")
    assert {(c["venue"], c["open"], c["high"], c["low"]) for c in candles.values()} == {
        ("test", 100_000.0, 100_010.0, 100_000.0),
        ("manual", 101_000.0, 101_000.0, 101_000.0),
    }


def replace_venue(event: Event, venue: str) -> Event:
    payload = event.payload
    assert isinstance(payload, PriceTick)
    return Event(payload=payload.model_copy(update={"venue": venue}), key=event.key)


def touched(projection: Projection, batch: list[RecordedEvent]) -> dict[str, list[RecordedEvent]]:
    """What `Projector.handle_batch` folds: the batch's events per document."""
    found: dict[str, list[RecordedEvent]] = {}
    for item in batch:
        for key in projection.keys(item):
            found.setdefault(key, []).append(item)
    return found


async def test_open_and_close_follow_stream_order_not_the_venues_clock(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    late = [
        tick("ETH/USDT", 10.0, START + timedelta(seconds=30)),
        tick("ETH/USDT", 11.0, START + timedelta(seconds=10)),
        tick("ETH/USDT", 12.0, START + timedelta(seconds=50)),
        tick("ETH/USDT", 9.0, START + timedelta(seconds=5)),
    ]
    await Projector(Candles(), database["candles"]).handle_batch(
        await recorded(store, "ticks", late)
    )
    (candle,) = (await documents(database, "candles")).values()
    assert (candle["open"], candle["high"], candle["low"], candle["close"]) == (
        10.0,
        12.0,
        9.0,
        9.0,
    )


def coverage_events() -> list[Event]:
    """Two runs of a source start on SOL/USDT, the first stops; another venue starts."""
    first, second = uuid.uuid4(), uuid.uuid4()
    payloads: list[SourceStarted | SourceStopped] = [
        SourceStarted(source="simulator", venue="simulator", symbol="SOL/USDT", run_id=first),
        SourceStarted(source="exchange", venue="binance", symbol="SOL/USDT", run_id=second),
        SourceStarted(source="simulator", venue="simulator", symbol="SOL/USDT", run_id=second),
        SourceStopped(source="simulator", venue="simulator", symbol="SOL/USDT", run_id=first),
    ]
    return [catalog_event(payload) for payload in payloads]


async def test_coverage_lists_the_runs_reporting_each_market(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    batch = await recorded(store, "ticks", coverage_events())
    await Projector(PriceCoverage(), database["coverage"]).handle_batch(batch)
    found = await documents(database, "coverage")
    assert {
        key: sorted(run["source"] for run in document["runs"].values())
        for key, document in found.items()
    } == {"SOL/USDT|simulator": ["simulator"], "SOL/USDT|binance": ["exchange"]}


def stream_of_every_kind() -> dict[str, tuple[str, list[Event]]]:
    """Per projection: its category and a partition's worth of events for it."""
    posts = [
        PostScraped(
            source="x",
            post_id=str(2**63 + n),
            author=f"a{n % 3}",
            text=f"$sol {n}",
            created_at=START + timedelta(minutes=n),
            cashtags=("$sol",),
            engagement=Engagement(likes=n, reposts=1),
        )
        for n in range(20)
    ]
    alerts = [
        AlertTriggered(
            rule_id=uuid.uuid4(),
            user_id=USER,
            subject="BTC/USDT",
            condition="crosses_up",
            message="up",
            values={"price": 100_000 + n},
            trigger_event_id=uuid.uuid4(),
            triggered_at=START + timedelta(seconds=n),
        )
        for n in range(20)
    ]
    notifications = [
        NotificationSent(
            user_id=USER,
            channel_id="web",
            channel_kind="web",
            subject_event_id=uuid.uuid4(),
            at=START,
            response="ok",
        )
        for _ in range(10)
    ]
    return {
        "prices": ("ticks", [tick("SOL/USDT", 100.0 + n, START) for n in range(30)]),
        "candles": (
            "ticks",
            [tick("SOL/USDT", 100.0 + n, START + timedelta(seconds=5 * n)) for n in range(30)],
        ),
        "price_coverage": ("ticks", coverage_events()),
        "posts": ("posts", [catalog_event(post) for post in posts]),
        "alert_history": ("alerts", [catalog_event(alert) for alert in alerts]),
        "recent_alerts": ("alerts", [catalog_event(alert) for alert in alerts]),
        "notifications": ("notifications", [catalog_event(sent) for sent in notifications]),
        "chain_events": ("chain", [chain_log(n % 5, removed=n >= 5) for n in range(10)]),
    }


PROJECTIONS: dict[str, Projection] = {
    "prices": Prices(),
    "candles": Candles(),
    "price_coverage": PriceCoverage(),
    "posts": Posts(),
    "alert_history": AlertHistory(),
    "recent_alerts": RecentAlerts(),
    "notifications": Notifications(),
    "chain_events": ChainEvents(),
}


@pytest.mark.parametrize("name", sorted(PROJECTIONS))
async def test_replaying_a_batch_leaves_the_documents_as_they_were(
    store: EventStore, database: AsyncDatabase[Document], name: str
) -> None:
    category, events = stream_of_every_kind()[name]
    batch = await recorded(store, category, events)
    projector = Projector(PROJECTIONS[name], database[name])
    await projector.handle_batch(batch)
    first = await documents(database, name)
    assert first
    await projector.handle_batch(batch)
    await projector.handle_batch(batch[: len(batch) // 2])
    assert await documents(database, name) == first


@pytest.fixture
async def three_symbols(store: EventStore) -> list[RecordedEvent]:
    """300 ticks of three symbols over five minutes, in no order of time."""
    rng = random.Random(3)
    ticks = [
        tick(
            rng.choice(["BTC/USDT", "ETH/USDT", "SOL/USDT"]),
            round(rng.uniform(1, 2), 4),
            START + timedelta(seconds=rng.randrange(300)),
            volume=rng.random(),
        )
        for _ in range(300)
    ]
    return await recorded(store, "ticks", ticks)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
@given(cuts=st.lists(st.integers(min_value=1, max_value=299), max_size=12, unique=True))
async def test_any_split_of_a_stream_into_batches_gives_the_same_documents(
    database: AsyncDatabase[Document], three_symbols: list[RecordedEvent], cuts: list[int]
) -> None:
    """The fixture's ticks are appended once and only read by every example."""
    batch = three_symbols
    bounds = [0, *sorted(cuts), len(batch)]
    for projection in (Prices(), Candles()):
        whole, split = (f"{projection.name}_{uuid.uuid4().hex[:8]}" for _ in range(2))
        await Projector(projection, database[whole]).handle_batch(batch)
        projector = Projector(projection, database[split])
        for start, end in itertools.pairwise(bounds):
            await projector.handle_batch(batch[start:end])
        assert await documents(database, split) == await documents(database, whole)
        await database.drop_collection(whole)
        await database.drop_collection(split)


async def test_a_removed_log_is_marked_and_an_older_announcement_does_not_revive_it(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    big = 2**200
    batch = await recorded(
        store,
        "chain",
        [
            chain_log(0, args={"value": big, "$from": "0xabc", "a.b": [1]}),
            chain_log(0, removed=True),
        ],
    )
    projector = Projector(ChainEvents(), database["chain"])
    await projector.handle_batch(batch[:1])
    (seen,) = (await documents(database, "chain")).values()
    assert seen["_id"] == f"1:0x{'c' * 64}:0"
    assert seen["address"] == ADDRESS.lower()
    assert not seen["removed"]
    assert from_text(seen["args_json"]) == {"value": big, "$from": "0xabc", "a.b": [1]}
    await projector.handle_batch(batch[1:])
    await projector.handle_batch(batch[:1])  # a redelivery of the older announcement
    (removed,) = (await documents(database, "chain")).values()
    assert removed["removed"]
    assert removed["observed_at"] == seen["observed_at"]
    again = await recorded(store, "chain", [chain_log(0)])
    await projector.handle_batch(again[-1:])
    (revived,) = (await documents(database, "chain")).values()
    assert not revived["removed"]


async def test_documents_carry_what_the_api_filters_on(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    post = PostScraped(
        source="x",
        post_id="18446744073709551617",
        author="ansem",
        text="$SOL",
        created_at=START,
        cashtags=("$sol", "SOL", "$Jup"),
        symbols=("SOL/USDT",),
        engagement=Engagement(likes=3, reposts=2, replies=1, quotes=4),
    )
    failed = NotificationFailed(
        user_id=USER,
        channel_id="tg",
        channel_kind="telegram",
        subject_event_id=uuid.uuid4(),
        at=START,
        error="blocked",
    )
    await Projector(Posts(), database["posts"]).handle_batch(
        await recorded(store, "posts", [catalog_event(post)])
    )
    await Projector(Notifications(), database["notifications"]).handle_batch(
        await recorded(store, "notifications", [catalog_event(failed)])
    )
    (stored_post,) = (await documents(database, "posts")).values()
    assert stored_post["_id"] == "x:18446744073709551617"
    assert stored_post["tickers"] == ["JUP", "SOL"]
    assert stored_post["engagement_total"] == 10
    assert stored_post["symbols"] == ["SOL/USDT"]
    (stored_failure,) = (await documents(database, "notifications")).values()
    assert stored_failure["status"] == "failed"
    assert (stored_failure["error"], stored_failure["response"]) == ("blocked", None)
    assert stored_failure[POSITION]
