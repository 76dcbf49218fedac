"""Benchmark: price rules evaluated per tick by the indexed engine, against a full scan.

    python -m bench.rules --json [--quick]

- ``engine_tps``: ticks per second through `RuleEngine.evaluate` with RULES rules over
  SYMBOLS symbols (two venues), one process, firings included, over 300,000 ticks
  (30,000 with ``--quick``, which also includes the burst of firings a fresh engine
  makes, so its figure runs lower); ``naive_tps``: the same
  rules through `ReferenceEngine`, which scans every rule of every symbol on every tick
  as the reference design did, measured in the same run over the first ticks of the
  same path (it is slow); ``ratio`` = engine / naive. The two must fire exactly the
  same alerts on the ticks both saw, or the benchmark fails.
  Rates are per second of this process's CPU time: the work is one thread, and on a
  shared machine other processes' load would otherwise be counted against it. The
  wall-clock rates are reported beside them (``engine_wall_tps``, ``naive_wall_tps``).
- ``load_rules_per_s``: rules upserted into an empty engine per second (what a restart
  rebuilding the index from a snapshot pays).

Rules are a trader-like mix, seeded: every condition kind, thresholds near each
symbol's price, windows from a minute to an hour, frequencies once / every time with a
cooldown / at most once per interval, some venue-specific, some paused, some expiring
during the run. Prices are random walks; volumes are noisy with rare spikes; ticks are
2 ms apart (each symbol every second or so).

The deployed pipeline (`bench.monitor`): ``alert_p50_ms`` / ``alert_p99_ms`` (tick
appended -> `alert.triggered` appended, at 5,000 ticks/s offered), ``webhook_p99_ms``
(-> the signed webhook received) and ``restart_s`` (a new rules worker process, until it
fires again), with 10,000 rules created through the application for the latency, then
100,000 for the ``*_all`` latency and the restart (10,000 throughout with ``--quick``).

Each part is a function returning a dict of figures; `measure` merges them into the
one JSON object printed.
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregates.rule_spec import RuleSpec
from bench.common import Result, arguments, note, quiet_logs, redis_server, report
from bench.monitor import measure_pipeline
from bench.rule_mix import SYMBOLS, VENUES, condition, frequency, start_prices, symbol_name
from rules.engine import RuleEngine
from rules.firing import Firing, Observation, RuleState
from rules.reference import ReferenceEngine

RULES = 100_000
TICK_SPACING = timedelta(milliseconds=2)
START = datetime(2026, 3, 1, tzinfo=UTC)
SEED = 20260301

LABELS = {
    "rules": "rules",
    "symbols": "symbols",
    "ticks": "ticks through the engine",
    "naive_ticks": "ticks through the naive scan",
    "firings": "alerts fired by the engine",
    "evaluated_rules_at_end": "rules still evaluated at the end",
    "load_rules_per_s": "rules indexed per CPU second (upsert)",
    "engine_tps": "engine: ticks evaluated per CPU second",
    "naive_tps": "naive scan of all rules: ticks per CPU second",
    "ratio": "engine / naive",
    "engine_wall_tps": "engine: ticks per wall-clock second",
    "naive_wall_tps": "naive scan: ticks per wall-clock second",
    "pipeline_rules": "rules in the deployed pipeline",
    "offered_tps": "ticks/s offered to the pipeline",
    "latency_ticks": "latency ticks measured",
    "alerts_seen": "their alerts seen",
    "webhooks_seen": "their webhooks received",
    "alerts_per_s": "alerts the engine appended per second (all rules)",
    "alerts_per_s_all": "with every rule: alerts appended per second",
    "offered_tps_all": "with every rule: ticks/s offered",
    "latency_ticks_all": "with every rule: latency ticks",
    "alerts_seen_all": "with every rule: their alerts seen",
    "webhooks_seen_all": "with every rule: their webhooks received",
    "alert_p50_ms": "tick appended -> alert appended, p50",
    "alert_p99_ms": "tick appended -> alert appended, p99",
    "webhook_p50_ms": "tick appended -> webhook received, p50",
    "webhook_p99_ms": "tick appended -> webhook received, p99",
    "restart_s": "rules worker restart until it fires again (s)",
    "restart_rules": "rules at the restart",
    "alert_p50_ms_all": "with every rule: tick -> alert, p50",
    "alert_p99_ms_all": "with every rule: tick -> alert, p99",
    "webhook_p50_ms_all": "with every rule: tick -> webhook, p50",
    "webhook_p99_ms_all": "with every rule: tick -> webhook, p99",
}
PIPELINE_RATE = 5_000
PIPELINE_RULES = 10_000


# -- the market and the rules ----------------------------------------------------------------


def make_rules(rng: random.Random, prices: list[float], span: timedelta) -> list[RuleState]:
    rules = []
    for number in range(RULES):
        symbol = number % SYMBOLS
        venue = rng.choice(VENUES) if rng.random() < 0.25 else None
        expires = START + span * rng.uniform(0.1, 1) if rng.random() < 0.1 else None
        spec = RuleSpec.model_validate(
            {
                "target": {"kind": "symbol", "symbol": symbol_name(symbol), "venue": venue},
                "condition": condition(rng, prices[symbol]),
                "frequency": frequency(rng),
                "expires_at": expires,
                "channels": ["web"],
            }
        )
        status = "paused" if rng.random() < 0.05 else "active"
        rules.append(RuleState(uuid.uuid4(), uuid.uuid4(), spec, status))
    return rules


def make_ticks(rng: random.Random, prices: list[float], count: int) -> list[Observation]:
    """A random walk per symbol (0.1% a step), ticks in a random symbol order."""
    prices = list(prices)
    ticks = []
    at = START
    for _ in range(count):
        symbol = rng.randrange(SYMBOLS)
        prices[symbol] *= math.exp(rng.gauss(0, 0.001))
        volume = rng.lognormvariate(0, 0.5) * (8 if rng.random() < 0.01 else 1)
        at += TICK_SPACING
        ticks.append(
            Observation(
                symbol=symbol_name(symbol),
                venue=rng.choice(VENUES),
                price=round(prices[symbol], 6),
                volume=round(volume, 4),
                at=at,
                event_id=uuid.uuid4(),
            )
        )
    return ticks


# -- the measurement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """The rules and the ticks every part of this benchmark runs over."""

    rules: list[RuleState]
    ticks: list[Observation]


def market(ticks: int) -> Market:
    rng = random.Random(SEED)
    prices = start_prices(rng)
    note(f"building {RULES:,} rules over {SYMBOLS} symbols and {ticks:,} ticks")
    rules = make_rules(rng, prices, TICK_SPACING * ticks)
    return Market(rules, make_ticks(rng, prices, ticks))


@dataclass
class Elapsed:
    cpu: float = 0.0
    wall: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Elapsed]:
    """CPU time of this process and wall time, over the block."""
    elapsed = Elapsed()
    cpu, wall = time.process_time(), time.perf_counter()
    yield elapsed
    elapsed.cpu = time.process_time() - cpu
    elapsed.wall = time.perf_counter() - wall


def engine_throughput(market: Market, naive_ticks: int) -> Result:
    """engine_tps, naive_tps and their ratio, over the same rules and ticks."""
    engine = RuleEngine()
    with stopwatch() as loading:
        for rule in market.rules:
            engine.upsert(rule)

    note(f"engine: {len(market.ticks):,} ticks")
    firings = 0
    early: list[list[Firing]] = []
    with stopwatch() as evaluating:
        for number, tick in enumerate(market.ticks):
            fired = engine.evaluate(tick)
            firings += len(fired)
            if number < naive_ticks:
                early.append(fired)

    note(f"naive scan: the first {naive_ticks} ticks")
    naive = ReferenceEngine()
    for rule in market.rules:
        naive.upsert(rule)
    with stopwatch() as scanning:
        naive_fired = [naive.evaluate(tick) for tick in market.ticks[:naive_ticks]]
    if naive_fired != early:
        raise RuntimeError("the engine and the naive scan fired different alerts")

    engine_tps = len(market.ticks) / evaluating.cpu
    naive_tps = naive_ticks / scanning.cpu
    return {
        "rules": len(market.rules),
        "symbols": SYMBOLS,
        "ticks": len(market.ticks),
        "naive_ticks": naive_ticks,
        "firings": firings,
        "evaluated_rules_at_end": len(engine),
        "load_rules_per_s": round(len(market.rules) / loading.cpu),
        "engine_tps": round(engine_tps),
        "naive_tps": round(naive_tps, 2),
        "ratio": round(engine_tps / naive_tps, 1),
        "engine_wall_tps": round(len(market.ticks) / evaluating.wall),
        "naive_wall_tps": round(naive_ticks / scanning.wall, 2),
    }


def measure(*, quick: bool) -> Result:
    ticks, naive_ticks = (30_000, 20) if quick else (300_000, 60)
    result = engine_throughput(market(ticks), naive_ticks)
    gc.collect()  # the engine part's millions of objects must not slow this process's
    gc.freeze()  # collections while it stamps latencies (the pipeline's clock is here)
    with redis_server() as server:
        result |= asyncio.run(
            measure_pipeline(
                server.url,
                latency_rules=PIPELINE_RULES,
                restart_rules=PIPELINE_RULES if quick else RULES,
                rate=PIPELINE_RATE,
                seconds=5 if quick else 20,
            )
        )
    return result


def main() -> None:
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    options = parser.parse_args()
    quiet_logs()
    report(measure(quick=options.quick), as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
