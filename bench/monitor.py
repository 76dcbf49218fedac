"""The market monitor as deployed: tick -> alert -> webhook latency, and an engine restart.

Part of ``python -m bench.rules``. The `rules`, `rule-firings` and `notify` handlers run
as `impressox worker` processes against a private Redis, exactly as `impressox up`
starts them, with background rules (the engine benchmark's mix) created through the
AlertRules application, plus one latency rule that fires on every tick of its own
symbol and is delivered to a signed webhook on a local receiver. Latency is measured
with 10,000 background rules, then again (``*_all``) once there are 100,000, which
fire several hundred alerts a second on this market, all delivered to the web channel.

- ``alert_p50_ms`` / ``alert_p99_ms``: open-loop ticks at RATE per second (batches every
  10 ms, one latency tick in each), after a warm-up at the same rate; from the moment a
  tick's append returned to the moment its `alert.triggered` is read from the stream.
- ``webhook_p99_ms``: from the same moment to the webhook request's arrival.
- ``restart_s``: the rules worker is stopped (SIGTERM) and a new process started; the
  time from its start until it fires on a tick again (interpreter start, loading the
  rules from the snapshot and the log, replaying the warm-up ticks, included).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from aiohttp import web
from pydantic import SecretStr

from aggregates.alert_rule import AlertRule
from aggregates.rule_spec import RuleSpec
from aggregates.services.bundle import Services
from bench.common import Result, fresh_prefix, impressox_process, note, percentile_ms
from bench.rule_mix import condition, frequency, start_prices, symbol_name
from events.catalog import AlertTriggered, PriceTick
from events.codec import decode
from events.envelope import Event
from events.redis_client import stream_replies
from events.registry import REGISTRY
from events.store import EventStore
from handlers.monitoring import group_backlog
from impressox.connections import connect_redis
from impressox.embedded.process import ChildProcess
from impressox.services import build_services
from impressox.settings import Settings

LATENCY_SYMBOL = "LAT/USDT"
BATCH_INTERVAL_S = 0.01
HANDLERS = ("rules", "rule-firings", "notify")
COMMIT_BATCH = 500
WARMUP_S = 3.0
"""Load before measuring: a fresh engine's first ticks fire the burst of every rule whose
condition already holds (once-rules near the price), which a running system has behind it."""


@dataclass
class Timings:
    """perf_counter_ns stamps by the latency tick's event id."""

    appended: dict[UUID, int] = field(default_factory=dict)
    alerted: dict[UUID, int] = field(default_factory=dict)
    delivered: dict[UUID, int] = field(default_factory=dict)

    def latencies(self, arrivals: dict[UUID, int]) -> list[int]:
        return [
            arrived - self.appended[tick]
            for tick, arrived in arrivals.items()
            if tick in self.appended
        ]


def bench_settings(redis_url: str, data_dir: Path) -> Settings:
    return Settings(
        redis_url=redis_url,
        stream_prefix=fresh_prefix("monitor"),
        data_dir=data_dir,
        partitions=4,
        secret_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
        notify_rate_per_minute=0,
        allowed_destinations=LOCAL_RECEIVER,
    )


LOCAL_RECEIVER = ["127.0.0.1"]
"""The benchmark's webhook receiver runs here, standing for a user's public one."""


def worker(settings: Settings, name: str) -> ChildProcess:
    return impressox_process(
        f"worker {name}",
        ["worker", name],
        settings,
        IMPRESSOX_NOTIFY_RATE_PER_MINUTE="0",
        IMPRESSOX_ALLOWED_DESTINATIONS=json.dumps(LOCAL_RECEIVER),
    )


def create_rules(services: Services, owner: UUID, count: int, *, seed: int = 7) -> None:
    """`count` rules of the engine benchmark's mix, committed in batches."""
    rng = random.Random(seed)
    prices = start_prices(rng)
    batch: list[AlertRule] = []
    for number in range(count):
        symbol = number % len(prices)
        spec = RuleSpec.model_validate(
            {
                "target": {"kind": "symbol", "symbol": symbol_name(symbol)},
                "condition": condition(rng, prices[symbol]),
                "frequency": frequency(rng),
                "channels": ["web"],
            }
        )
        batch.append(AlertRule(owner_id=owner, spec=spec))
        if len(batch) == COMMIT_BATCH:
            services.alert_rules.commit(*batch)
            batch = []
    if batch:
        services.alert_rules.commit(*batch)


def create_latency_rule(services: Services, owner: UUID, hook_url: str) -> str:
    """The rule that fires on every latency tick, to a webhook; its signing secret."""
    added = services.users.add_channel(
        owner, {"channel_id": "hook", "channel": {"kind": "webhook", "url": hook_url}}
    )
    services.alert_rules.create(
        owner,
        {
            "target": {"kind": "symbol", "symbol": LATENCY_SYMBOL},
            "condition": {"type": "above", "threshold": 1},
            "frequency": {"kind": "every_time", "cooldown_s": 0},
            "channels": ["hook"],
        },
    )
    assert added.signing_secret is not None
    return added.signing_secret


@asynccontextmanager
async def webhook_receiver(timings: Timings) -> AsyncIterator[str]:
    async def hook(request: web.Request) -> web.Response:
        arrived = time.perf_counter_ns()
        body = json.loads(await request.read())
        timings.delivered[UUID(body["alert"]["trigger_event_id"])] = arrived
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


async def watch_alerts(store: EventStore, timings: Timings) -> None:
    """Stamp each latency tick's alert as it is read from its partition's stream."""
    stream = store.names.stream_for_key("alerts", LATENCY_SYMBOL)
    last = "$"
    while True:
        reply = await store.redis.xread({stream: last}, block=1000, count=500)
        arrived = time.perf_counter_ns()
        for _, arrivals in stream_replies(reply):
            for entry_id, fields in arrivals:
                last = entry_id.decode()
                alert = decode(fields, REGISTRY, strict=False).payload
                if isinstance(alert, AlertTriggered):
                    timings.alerted.setdefault(alert.trigger_event_id, arrived)


class Market:
    """Random walks of the background symbols, and the latency symbol's ticks."""

    def __init__(self) -> None:
        self.rng = random.Random(11)
        self.prices = start_prices(self.rng)

    def tick(self, symbol: str, price: float) -> Event:
        payload = PriceTick.model_construct(
            symbol=symbol,
            venue="binance",
            price=price,
            volume=self.rng.random(),
            source_time=datetime.now(UTC),
            simulated=False,
        )
        return Event(key=symbol, payload=payload)

    def batch(self, size: int) -> tuple[list[Event], Event]:
        events = []
        for _ in range(size - 1):
            number = self.rng.randrange(len(self.prices))
            self.prices[number] *= 1 + self.rng.gauss(0, 0.0005)
            events.append(self.tick(symbol_name(number), self.prices[number]))
        latency = self.tick(LATENCY_SYMBOL, 100.0)
        return [*events, latency], latency


async def offer_load(
    store: EventStore, market: Market, timings: Timings, *, rate: int, seconds: float
) -> None:
    size = max(1, round(rate * BATCH_INTERVAL_S))
    start = time.perf_counter()
    for number in range(int(seconds / BATCH_INTERVAL_S)):
        delay = start + number * BATCH_INTERVAL_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        events, latency = market.batch(size)
        await store.append_batch("ticks", events)
        timings.appended[latency.event_id] = time.perf_counter_ns()


async def first_alert_after(
    store: EventStore, market: Market, timings: Timings, since_ns: int, limit_s: float
) -> int:
    """Append latency ticks until one fires; the perf_counter_ns of that alert."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        tick = market.tick(LATENCY_SYMBOL, 100.0)
        await store.append("ticks", tick)
        timings.appended[tick.event_id] = time.perf_counter_ns()
        await asyncio.sleep(0.05)
        fired = [
            at
            for event_id, at in timings.alerted.items()
            if timings.appended.get(event_id, 0) >= since_ns
        ]
        if fired:
            return min(fired)
    raise TimeoutError(f"the rules worker fired nothing within {limit_s:g}s")


@contextmanager
def workers(settings: Settings) -> Iterator[dict[str, ChildProcess]]:
    children = {name: worker(settings, name) for name in HANDLERS}
    for child in children.values():
        child.start()
    try:
        yield children
    finally:
        for child in children.values():
            child.stop()


async def measure_pipeline(
    redis_url: str, *, latency_rules: int, restart_rules: int, rate: int, seconds: float
) -> Result:
    """Latency at `latency_rules` rules; then, with `restart_rules` rules, latency again
    (the ``*_all`` figures) and the restart."""
    timings = Timings()
    market = Market()
    with tempfile.TemporaryDirectory(prefix="impressox-bench-monitor-") as data_dir:
        settings = bench_settings(redis_url, Path(data_dir))
        services = build_services(settings, redis_url)
        redis = await connect_redis(redis_url)
        store = EventStore(redis, settings.stream_names())
        watcher = asyncio.create_task(watch_alerts(store, timings))
        try:
            async with webhook_receiver(timings) as hook_url:
                owner = services.users.register("bench trader")
                note(f"creating {latency_rules:,} rules through the AlertRules application")
                await asyncio.to_thread(create_rules, services, owner, latency_rules)
                create_latency_rule(services, owner, hook_url)
                with workers(settings) as children:
                    note("waiting for the workers to fire a first alert")
                    await first_alert_after(store, market, timings, 0, limit_s=120)
                    result = await _steady_latency(store, market, timings, rate, seconds)
                    if restart_rules > latency_rules:
                        more = restart_rules - latency_rules
                        note(f"creating {more:,} more rules")
                        await asyncio.to_thread(create_rules, services, owner, more, seed=8)
                        at_all = await _steady_latency(store, market, timings, rate, seconds)
                        result |= {f"{name}_all": value for name, value in at_all.items()}
                    note(f"restarting the rules worker ({restart_rules:,} rules)")
                    children["rules"].stop()
                    restarted = time.perf_counter_ns()
                    children["rules"].start()
                    fired = await first_alert_after(store, market, timings, restarted, 120)
                    result["restart_s"] = round((fired - restarted) / 1e9, 2)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            await redis.aclose()
            services.close()
    return result | {"pipeline_rules": latency_rules, "restart_rules": restart_rules}


async def _steady_latency(
    store: EventStore, market: Market, timings: Timings, rate: int, seconds: float
) -> Result:
    note(f"warming up: {rate:,} ticks/s for {WARMUP_S:g}s, then settling")
    await offer_load(store, market, timings, rate=rate, seconds=WARMUP_S)
    await _settle(store, timings)
    note(f"offering {rate:,} ticks/s for {seconds:g}s")
    timings.appended.clear()
    timings.alerted.clear()
    timings.delivered.clear()
    before = await _alerts_appended(store)
    await offer_load(store, market, timings, rate=rate, seconds=seconds)
    fired = await _alerts_appended(store) - before
    await _settle(store, timings)
    return _latencies(timings, rate) | {"alerts_per_s": round(fired / seconds)}


async def _alerts_appended(store: EventStore) -> int:
    """Alerts in the streams so far (what the engine fired, every rule together)."""
    streams = store.names.category_streams("alerts")
    return sum([int(await store.redis.xlen(stream)) for stream in streams])


async def _settle(store: EventStore, timings: Timings, limit_s: float = 180.0) -> None:
    """Wait until every handler has caught up and the latency ticks' alerts and webhooks
    are in (at most `limit_s`): a measurement starts from a system that is not behind."""
    names = store.names
    queues = {
        "rules": names.category_streams("ticks"),
        "notify": names.category_streams("alerts"),
        "rule-firings": names.category_streams("alerts"),
    }
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        arrived = min(len(timings.delivered), len(timings.alerted))
        if arrived >= len(timings.appended):
            backlogs = [
                await group_backlog(store.redis, streams, group)
                for group, streams in queues.items()
            ]
            if not any(backlogs):
                return
        await asyncio.sleep(0.2)
    note(f"still behind after {limit_s:g}s; measuring anyway")


def _latencies(timings: Timings, rate: int) -> Result:
    alerts = timings.latencies(timings.alerted)
    hooks = timings.latencies(timings.delivered)
    return {
        "offered_tps": rate,
        "latency_ticks": len(timings.appended),
        "alerts_seen": len(alerts),
        "webhooks_seen": len(hooks),
        "alert_p50_ms": percentile_ms(alerts, 50),
        "alert_p99_ms": percentile_ms(alerts, 99),
        "webhook_p50_ms": percentile_ms(hooks, 50),
        "webhook_p99_ms": percentile_ms(hooks, 99),
    }
