"""The read side: projection replay, API latency under load, WebSocket fan-out.

``python -m bench.readside [--json] [--quick]``

1. ``projection_eps``: N ``price.tick`` events (200,000; 20,000 quick) over SYMBOLS
   symbols are appended first; then the `prices` read model is replayed from the start
   by the real runtime (a `Worker` of a fresh generation: XREADGROUP, one read and one
   coalesced `bulk_write` per batch, the fenced commit); from its start until its
   backlog is zero. ``raw_bulk_eps``, the baseline, in the same run: the same events
   written with the raw driver, one upsert per event in `bulk_write` batches of the same
   size, no Redis, no fold, no tracking — what MongoDB does without coalescing.
2. ``api_p50_ms``/``api_p99_ms``: the API as a separate process (``impressox api``);
   a load generator here sends GET /v1/prices/{symbol} and GET /v1/alerts at a fixed
   500 requests per second (open loop: latency is measured from each request's
   scheduled time, so a stall is not hidden by sending fewer requests).
3. ``ws_fanout_p99_ms``: 1,000 WebSocket subscribers to one symbol (100 quick); a tick
   appended → received by every one of them; percentiles over all deliveries.

MongoDB is a private SecantusDB (the embedded default) unless MONGO_URL is set. The
WebSocket phase also measures one subscriber alone (``ws_one_p99_ms``) as its baseline.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, ReplaceOne

import projections.readmodels  # noqa: F401 - registers the read models
from bench.common import (
    Result,
    Server,
    arguments,
    fresh_prefix,
    note,
    percentile_ms,
    quiet_logs,
    redis_server,
    report,
    run_fast,
)
from bench.http_load import open_loop
from bench.ws_fanout import (
    FILES_PER_CLIENT,
    api_process,
    mongo_server,
    raise_open_file_limit,
    ws_fanout_p99_ms,
)
from events.catalog import AlertTriggered, PriceTick
from events.envelope import Event
from events.names import StreamNames
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.worker import Worker
from impressox.connections import connect_mongo, connect_redis
from impressox.services import build_services
from impressox.settings import Settings
from projections.generations import Generation, Generations
from projections.model import Document
from projections.readmodels.prices import Prices
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner, backlog, generation_spec

SYMBOLS = 100
BATCH = 1000
API_RATE = 500
PARTITIONS = 4

LABELS = {
    "events": "tick events replayed",
    "projection_eps": "prices projection replay (events/s)",
    "raw_bulk_eps": "raw bulk_write, one upsert per event (events/s)",
    "ratio": "projection / raw bulk_write",
    "api_requests": "API requests sent",
    "api_rate": "offered load (requests/s)",
    "api_p50_ms": "API GET latency p50 (ms)",
    "api_p99_ms": "API GET latency p99 (ms)",
    "api_errors": "API responses other than 200",
    "subscribers": "WebSocket subscribers",
    "ws_ticks": "ticks fanned out",
    "ws_fanout_max_ms": "tick appended -> received by all, max (ms)",
    "ws_fanout_lost": "deliveries lost",
    "ws_one_p99_ms": "baseline: one subscriber, p99 (ms)",
    "ws_fanout_p50_ms": "tick appended -> received by all, p50 (ms)",
    "ws_fanout_p99_ms": "tick appended -> received by all, p99 (ms)",
}


def symbol(number: int) -> str:
    return f"S{number % SYMBOLS:03d}/USDT"


def price_tick(number: int) -> Event:
    payload = PriceTick(
        symbol=symbol(number),
        venue="bench",
        price=100 + (number % 997) / 10,
        volume=(number % 89) / 10,
        source_time=datetime.now(UTC),
        simulated=True,
    )
    return Event(key=payload.symbol, payload=payload)


# -- 1. projection replay -------------------------------------------------------------------


async def projection_replay(redis_url: str, mongo_url: str, count: int) -> Result:
    prefix = fresh_prefix("readside")
    redis = await connect_redis(redis_url)
    mongo = connect_mongo(mongo_url)
    database = mongo[f"bench_{prefix.replace('-', '_')}"]
    store = EventStore(redis, StreamNames(prefix, PARTITIONS))
    try:
        note(f"appending {count:,} price ticks over {SYMBOLS} symbols")
        events = [price_tick(number) for number in range(count)]
        for start in range(0, count, 5000):
            await store.append_many("ticks", events[start : start + 5000])
        projection = Prices()
        generation = Generation(projection.name, 1)
        await Generations(database).create_indexes(projection, generation)
        spec = generation_spec(projection, generation, database)
        config = RuntimeConfig(batch_size=BATCH, block_ms=100)
        stop = asyncio.Event()
        note("replaying them into the prices read model")
        started = time.perf_counter()
        task = asyncio.create_task(Worker(spec, store, config).run(stop))
        while True:
            if await backlog(projection, generation, store) == 0:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        documents = await database[generation.collection].count_documents({})
        if documents != SYMBOLS:
            raise RuntimeError(f"expected {SYMBOLS} price documents, found {documents}")
        projection_eps = count / elapsed

        note("baseline: the same events as raw bulk_write upserts")
        raw = database["raw_prices"]
        started = time.perf_counter()
        for start in range(0, count, BATCH):
            await raw.bulk_write(
                [
                    ReplaceOne(
                        {"_id": event.key},
                        event.payload.model_dump(mode="python"),
                        upsert=True,
                    )
                    for event in events[start : start + BATCH]
                ],
                ordered=False,
            )
        raw_eps = count / (time.perf_counter() - started)
        await mongo.drop_database(database.name)
    finally:
        await redis.aclose()
        await mongo.close()
    return {
        "events": count,
        "projection_eps": round(projection_eps),
        "raw_bulk_eps": round(raw_eps),
        "ratio": round(projection_eps / raw_eps, 3),
    }


# -- 2. API latency, 3. WebSocket fan-out ------------------------------------------------------


def price_path(name: str) -> str:
    """The API path of one symbol's latest price (BTC/USDT is written BTC-USDT there)."""
    return f"/v1/prices/{name.replace('/', '-')}"


async def measure_api(url: str, token: str, paths: list[str], rate: int, seconds: float) -> Result:
    """Open-loop GETs at `rate` per second (see `bench.http_load`)."""
    load = await open_loop(
        url, {"Authorization": f"Bearer {token}"}, paths, rate=rate, seconds=seconds
    )
    return {
        "api_requests": len(load.latencies_ns),
        "api_rate": rate,
        "api_p50_ms": percentile_ms(load.latencies_ns, 50),
        "api_p99_ms": percentile_ms(load.latencies_ns, 99),
        "api_errors": load.errors,
    }


async def serve_and_measure(
    redis_url: str, mongo_url: str, *, seconds: float, subscribers: int, rate: int
) -> Result:
    prefix = fresh_prefix("api")
    with tempfile.TemporaryDirectory(prefix="impressox-bench-api-") as data_dir:
        settings = Settings(
            stream_prefix=prefix,
            mongo_database=f"bench_{prefix.replace('-', '_')}",
            data_dir=Path(data_dir),
            partitions=PARTITIONS,
            rate_limit_per_minute=0,
            user_rate_limit_per_minute=0,
        )
        services = build_services(settings, redis_url)
        user_id = services.users.register("bench admin")
        token = services.users.issue_api_key(user_id, {"name": "bench", "scopes": ["admin"]}).token
        services.close()
        redis = await connect_redis(redis_url)
        mongo: AsyncMongoClient[Document] = connect_mongo(mongo_url)
        store = EventStore(redis, settings.stream_names())
        try:
            await store.append_many("ticks", [price_tick(number) for number in range(SYMBOLS * 10)])
            await store.append_many("alerts", [alert(user_id, number) for number in range(500)])
            await project_everything(store, mongo[settings.mongo_database])
            with api_process(settings, redis_url, mongo_url) as url:
                paths = [
                    path
                    for number in range(SYMBOLS)
                    for path in (price_path(symbol(number)), "/v1/alerts")
                ]
                note(f"API: {rate} GET/s for {seconds:g}s (prices and alert history)")
                result = await measure_api(url, token, paths, rate, seconds)
                note("WebSocket baseline: one subscriber")
                one = await ws_fanout_p99_ms(url, token, store, subscribers=1)
                note(f"WebSocket: {subscribers} subscribers to one symbol")
                result |= await ws_fanout_p99_ms(url, token, store, subscribers=subscribers)
                result["ws_one_p99_ms"] = one["ws_fanout_p99_ms"]
            await mongo.drop_database(settings.mongo_database)
        finally:
            await redis.aclose()
            await mongo.close()
    return result


def alert(user_id: Any, number: int) -> Event:
    payload = AlertTriggered(
        rule_id=user_id,
        user_id=user_id,
        subject=symbol(number),
        condition="above",
        severity="warning",
        message=f"{symbol(number)} above 100",
        trigger_event_id=user_id,
        triggered_at=datetime.now(UTC),
    )
    return Event(key=payload.subject, payload=payload)


async def project_everything(store: EventStore, database: Any) -> None:
    """Run every read model until it has caught up, then stop (the API only reads)."""
    runner = ProjectionRunner(
        projections=PROJECTIONS.all(),
        store=store,
        database=database,
        config=RuntimeConfig(batch_size=BATCH, block_ms=100),
        poll_s=0.2,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.sleep(0.5)
    generations = Generations(database)
    for projection in PROJECTIONS.all():
        while True:
            state = await generations.get(projection.name)
            if state is not None and await backlog(projection, state.active, store) == 0:
                break
            await asyncio.sleep(0.05)
    stop.set()
    await task


# -- main -----------------------------------------------------------------------------------


async def measure(server: Server, mongo_url: str, *, quick: bool, api_rate: int) -> Result:
    result = await projection_replay(server.url, mongo_url, 20_000 if quick else 200_000)
    result |= await serve_and_measure(
        server.url,
        mongo_url,
        seconds=5 if quick else 20,
        subscribers=100 if quick else 1000,
        rate=api_rate,
    )
    return result


def main() -> None:
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--api-rate", type=int, default=API_RATE, help="GET/s offered")
    options = parser.parse_args()
    quiet_logs()
    raise_open_file_limit(1000 * FILES_PER_CLIENT + 1024)
    with (
        tempfile.TemporaryDirectory(prefix="impressox-bench-readside-") as data_dir,
        redis_server() as server,
        mongo_server(Path(data_dir)) as mongo_url,
    ):
        result = run_fast(
            measure(server, mongo_url, quick=options.quick, api_rate=options.api_rate)
        )
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
