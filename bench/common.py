"""What both benchmarks share: the payload they move, the server, arguments and output.

Figures only mean something next to their baseline, so every benchmark measures both in
one run against one server. That server is a private redis-server with the settings
`impressox up` uses (AOF on, fsync every second) unless REDIS_URL names one of yours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import Redis

from events.codec import encode
from events.envelope import Event, Payload
from events.registry import event_type
from impressox.embedded.process import ChildProcess
from impressox.embedded.redis import EmbeddedRedis
from impressox.logging import configure_logging
from impressox.settings import Settings

SYMBOLS = 500
"""How many distinct keys events are spread over, like a market data feed's symbols."""

PARTITIONS = 4
"""Partitions per category: the default, so events of one batch land in several streams."""

Figure = float | int | str | bool | None
Result = dict[str, Figure]


@event_type("bench.tick")
class Tick(Payload):
    """A market tick: the input both benchmarks append, about 200 bytes once encoded.

    `sent_ns` is the producer's wall clock when it sent the tick, so whoever reads the
    tick (or an event caused by it) can tell how long it took to arrive.
    """

    symbol: str
    price: float
    volume: float
    seq: int
    sent_ns: int


def symbol(seq: int) -> str:
    """The key of tick number `seq`: consecutive ticks go to different symbols."""
    return f"sym{seq % SYMBOLS:03d}"


def tick(seq: int, sent_ns: int = 0) -> Event:
    """Tick number `seq`, with a price and volume that vary like real ones do."""
    return Event(
        key=symbol(seq),
        payload=Tick(
            symbol=symbol(seq),
            price=round(100 + (seq % 9973) / 7, 2),
            volume=round((seq % 997) / 3, 3),
            seq=seq,
            sent_ns=sent_ns or time.time_ns(),
        ),
    )


def ticks(first: int, count: int, *, what: str = "events") -> list[Event]:
    """Ticks `first` .. `first + count - 1`, built before any timing starts.

    Building an `Event` validates it, which costs more than appending it; that is the
    producer's work, so benchmarks build their inputs up front and time only the store.
    """
    built: list[Event] = []
    step = max(100_000, count // 10)
    for seq in range(first, first + count):
        built.append(tick(seq))
        if len(built) % step == 0 and len(built) < count:
            note(f"  built {len(built):,} of {count:,} {what}")
    return built


def encoded_bytes(events: Sequence[Event]) -> int:
    """The mean size of the values of an event's stream entry (field names excluded)."""
    sample = events[:1000]
    total = sum(len(value) for event in sample for value in encode(event))
    return round(total / max(1, len(sample)))


# -- the server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """The Redis a benchmark runs against; `embedded` is None for REDIS_URL."""

    url: str
    embedded: EmbeddedRedis | None


@contextmanager
def redis_server() -> Iterator[Server]:
    """REDIS_URL when set, else a private redis-server in a temporary directory."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield Server(url, None)
        return
    with tempfile.TemporaryDirectory(prefix="impressox-bench-") as data_dir:
        server = EmbeddedRedis(Path(data_dir))
        note("starting a private redis-server (AOF on, appendfsync everysec)")
        url = server.start()
        try:
            yield Server(url, server)
        finally:
            server.stop()


async def redis_version(redis: Redis) -> str:
    """The server's version, reported beside the figures it produced."""
    return str((await redis.info("server"))["redis_version"])


async def forget(redis: Redis, prefix: str) -> None:
    """Delete every key under `prefix` and wait until Redis has really freed them.

    Each phase writes under a fresh prefix; dropping the previous phase's keys keeps
    one phase's memory (and a background free of it) from slowing the next one down.
    """
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
    for start in range(0, len(keys), 500):
        await redis.unlink(*keys[start : start + 500])
    for _ in range(600):  # a few hundred MB take well under a second; give up after 30 s
        if int((await redis.info("memory"))["lazyfree_pending_objects"]) == 0:
            return
        await asyncio.sleep(0.05)


def fresh_prefix(phase: str) -> str:
    """A key prefix no earlier run or phase has used (a shared server may hold others)."""
    return f"bench-{phase}-{time.time_ns() % 10**9:09d}"


# -- arguments, progress, output ----------------------------------------------------------


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; a benchmark may add its own before parsing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--quick", action="store_true", help="a smaller run, within a minute")
    return parser


def quiet_logs() -> None:
    """Send the runtime's log lines to stderr, warnings only: stdout carries the result."""
    configure_logging("WARNING", "console")


_STARTED = time.monotonic()


def note(message: str) -> None:
    """A progress line on stderr, stamped with the seconds since the benchmark started."""
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def percentile_ms(samples_ns: Sequence[int], percent: int) -> float:
    """The `percent`-th percentile of nanosecond samples, in milliseconds."""
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return round(cuts[percent - 1] / 1e6, 3)


def report(result: Result, *, as_json: bool, labels: Mapping[str, str]) -> None:
    """Print the result: one JSON object, or one labelled line per figure for people."""
    if as_json:
        print(json.dumps(result))
        return
    width = max(len(labels.get(name, name)) for name in result)
    for name, value in result.items():
        shown = f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else value
        print(f"{labels.get(name, name):<{width}}  {shown}")


T = TypeVar("T")


def run_fast(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (as the API does): the measuring side, a
    thousand WebSocket clients or an HTTP load generator, shares two cores with the
    server it measures, and must not be what the figures measure."""
    try:
        import uvloop  # noqa: PLC0415 - optional: not on every platform
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def impressox_process(
    name: str, argv: Sequence[str], settings: Settings, **environment: str
) -> ChildProcess:
    """`impressox ARGV` as a child on `settings`' servers, prefix, database and data
    directory (as `impressox up` would start it), logging warnings only to its own file;
    `environment` adds or overrides variables."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    variables = {
        "REDIS_URL": settings.redis_url,
        "MONGO_URL": settings.mongo_url,
        "IMPRESSOX_STREAM_PREFIX": settings.stream_prefix,
        "IMPRESSOX_MONGO_DATABASE": settings.mongo_database,
        "IMPRESSOX_DATA_DIR": str(settings.data_dir),
        "IMPRESSOX_PARTITIONS": str(settings.partitions),
        "IMPRESSOX_SECRET_KEY": secret,
        "IMPRESSOX_LOG_LEVEL": "WARNING",
    }
    env = {**os.environ, **{k: v for k, v in variables.items() if v is not None}, **environment}
    return ChildProcess(
        name,
        [sys.executable, "-m", "impressox", *argv],
        log_path=settings.data_dir / f"{name.replace(' ', '-')}.log",
        env=env,
    )
