"""Benchmark: commands through the eventsourcing application, and aggregate loads.

    python -m bench.aggregates --json [--quick]

- commands_per_s: alert rules created through `AlertRules.create` (validation, the
  aggregate, our mapper, the Redis recorder: one insert script per command) by one
  process with THREADS threads, as the API's thread pool runs commands;
  sequential_commands_per_s: the same from one thread, where each command waits for
  its round trip; popo_commands_per_s: the same application on the library's
  in-memory recorder (sequential; threads cannot help it), in the same run.
- load_10k_snapshot_ms / load_10k_no_snapshot_ms: median time to load one aggregate of
  10,000 events from its latest snapshot, and by replaying all its events.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

from aggregates.services.alert_rules import AlertRules
from bench.common import Result, arguments, fresh_prefix, note, quiet_logs, redis_server, report

LOAD_EVENTS = 10_000
LOAD_SAMPLES = 15
THREADS = 8

SPEC: dict[str, Any] = {
    "name": "BTC breakout",
    "target": {"kind": "symbol", "symbol": "BTC/USDT"},
    "condition": {"type": "crosses_up", "threshold": 100_000},
    "frequency": {"kind": "every_time", "cooldown_s": 60},
    "channels": ["web"],
}

LABELS = {
    "commands_per_s": f"rules created per second (Redis recorder, {THREADS} threads)",
    "sequential_commands_per_s": "rules created per second (Redis recorder, 1 thread)",
    "popo_commands_per_s": "rules created per second (in-memory recorder)",
    "ratio": "Redis / in-memory",
    "load_10k_snapshot_ms": "load of a 10,000-event aggregate, from a snapshot (ms)",
    "load_10k_no_snapshot_ms": "load of a 10,000-event aggregate, replaying every event (ms)",
}


def commands_per_second(rules: AlertRules, count: int, *, threads: int = 1) -> float:
    owner = uuid4()

    def create(number: int) -> None:
        for _ in range(number):
            rules.create(owner, SPEC)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, [50] * threads))  # warm up: scripts loaded, connections open
        started = time.perf_counter()
        list(pool.map(create, [count // threads] * threads))
        return (count // threads * threads) / (time.perf_counter() - started)


def long_rule(rules: AlertRules) -> UUID:
    """A rule with LOAD_EVENTS events: created, then paused and resumed in turn."""
    rule_id = rules.create(uuid4(), SPEC)
    rule = rules.load(rule_id)
    for version in range(2, LOAD_EVENTS + 1):
        if version % 2 == 0:
            rule.pause()
        else:
            rule.resume()
    rules.commit(rule)
    return rule_id


def median_load_ms(rules: AlertRules, rule_id: UUID) -> float:
    samples = []
    for _ in range(LOAD_SAMPLES):
        started = time.perf_counter()
        rule = rules.load(rule_id)
        samples.append((time.perf_counter() - started) * 1000)
        assert rule.version == LOAD_EVENTS
    return statistics.median(samples)


def main() -> None:
    options = arguments(__doc__ or "").parse_args()
    quiet_logs()
    count = 2_000 if options.quick else 10_000
    with redis_server() as server:
        redis_env = {
            "PERSISTENCE_MODULE": "events.eventsourcing_redis",
            "REDIS_URL": server.url,
            "IMPRESSOX_STREAM_PREFIX": fresh_prefix("aggregates"),
        }
        note(f"creating {count:,} rules through the application on Redis, {THREADS} threads")
        with AlertRules(redis_env) as rules:
            redis_rate = commands_per_second(rules, count, threads=THREADS)
            note(f"creating {count:,} rules from one thread")
            sequential_rate = commands_per_second(rules, count)
        note(f"creating {count:,} rules on the in-memory recorder")
        with AlertRules({"PERSISTENCE_MODULE": "eventsourcing.popo"}) as popo:
            popo_rate = commands_per_second(popo, count)
        note(f"recording an aggregate of {LOAD_EVENTS:,} events, then loading it")
        with AlertRules({**redis_env, "IS_SNAPSHOTTING_ENABLED": "n"}) as replaying:
            rule_id = long_rule(replaying)
            no_snapshot = median_load_ms(replaying, rule_id)
        with AlertRules(redis_env) as snapshotting:
            snapshotting.take_snapshot(rule_id)
            with_snapshot = median_load_ms(snapshotting, rule_id)
    result: Result = {
        "commands_per_s": round(redis_rate),
        "sequential_commands_per_s": round(sequential_rate),
        "popo_commands_per_s": round(popo_rate),
        "ratio": round(redis_rate / popo_rate, 3),
        "load_10k_snapshot_ms": round(with_snapshot, 3),
        "load_10k_no_snapshot_ms": round(no_snapshot, 3),
        "commands": count,
        "quick": options.quick,
    }
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
