"""How fast and how steadily one worker process runs a consume-transform-produce handler.

``python -m bench.runtime [--json] [--quick]``

The handler turns each tick into one quote (``Output("quotes", tick.caused(...))``), with
the runtime's exactly-once tracking: outputs, tracking position and acknowledgements are
committed together. The worker is a separate process (``--serve``, started by the
benchmark), so the producer and reader here never share its event loop or its GIL.

Phases, all with the same worker process:

1. ``cp_eps``: N ticks are loaded first; from the moment the worker is told to start
   until every quote is stored. Its RSS after the first 50,000 is the memory baseline.
2. ``e2e_p50_ms``/``e2e_p99_ms``: a producer appends ticks at a steady 5,000 per second,
   stamped with their send time; a reader blocked on the quote streams takes each
   quote's arrival time. Latency is arrival minus send, producer append included.
3. ``rss_growth_pct``: more ticks, in chunks, until the worker has handled 1,000,000 in
   all (200,000 quick); its RSS then, against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psutil  # type: ignore[import-untyped, unused-ignore]
from redis.asyncio import Redis

from bench.common import (
    PARTITIONS,
    Result,
    Server,
    Tick,
    arguments,
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
from events.codec import PAYLOAD
from events.envelope import Payload, RecordedEvent
from events.names import StreamNames
from events.redis_client import entries, stream_replies
from events.registry import event_type
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.declaration import HandlerRegistry, HandlerResult, HandlerSpec, Output, handler
from handlers.worker import Worker
from impressox.connections import connect_redis

INPUTS = "ticks"
OUTPUTS = "quotes"
GROUP = "quoter"
BATCH_SIZE = 500
BLOCK_MS = 100

WARMUP = 50_000
"""Events the worker handles before its RSS is taken as the baseline."""

RATE = 5_000
"""Offered load of the latency phase, events per second."""

GRACE_S = 30.0
"""How long after the last tick is sent its quotes may take to arrive before giving up."""

SOAK_CHUNK = 50_000
"""Ticks appended at a time while the worker works towards its 1,000,000 (quick: 200,000)."""

ROOT = Path(__file__).resolve().parents[1]
"""Where `python -m bench.runtime` finds the package, whatever the caller's directory."""

STALL_S = 60.0
"""How long the worker may go without storing a quote before the benchmark gives up."""

LABELS = {
    "cp_eps": "consume-transform-produce, events/s",
    "e2e_p50_ms": "end-to-end latency p50, ms",
    "e2e_p99_ms": "end-to-end latency p99, ms",
    "rss_growth_pct": "worker RSS growth, %",
    "cp_events": "events in the throughput run",
    "batch_size": "worker batch size",
    "e2e_rate": "offered load, events/s",
    "e2e_events": "events in the latency run",
    "e2e_max_ms": "end-to-end latency max, ms",
    "e2e_lost": "quotes that never arrived",
    "cp_worker_cpu_pct": "worker CPU in the throughput run, %",
    "cp_worker_cpu_us_per_event": "worker CPU per event in the throughput run, µs",
    "cp_redis_cpu_pct": "redis-server CPU in the throughput run, %",
    "e2e_worker_cpu_pct": "worker CPU in the latency run, %",
    "e2e_worker_cpu_us_per_event": "worker CPU per event in the latency run, µs",
    "e2e_redis_cpu_pct": "redis-server CPU in the latency run, %",
    "rss_warm_mb": "worker RSS after warm-up, MB",
    "rss_final_mb": "worker RSS at the end, MB",
    "rss_events": "events handled at the end",
    "redis_version": "Redis version",
    "quick": "quick run",
}


@event_type("bench.quote")
class Quoted(Payload):
    """The handler's output: a quote derived from one tick, carrying its send time on."""

    symbol: str
    bid: float
    ask: float
    seq: int
    sent_ns: int


async def quote(recorded: RecordedEvent) -> HandlerResult:
    """Turn a tick into a quote a few basis points either side of its price."""
    tick = recorded.event.payload
    assert isinstance(tick, Tick)
    spread = tick.price * 0.0005
    quoted = Quoted(
        symbol=tick.symbol,
        bid=tick.price - spread,
        ask=tick.price + spread,
        seq=tick.seq,
        sent_ns=tick.sent_ns,
    )
    return [Output(OUTPUTS, recorded.event.caused(quoted))]


def quoter() -> HandlerSpec:
    """The handler, declared in a registry of its own so nothing else sees it."""
    registry = HandlerRegistry()
    handler(GROUP, categories=[INPUTS], types=[Tick], registry=registry)(quote)
    return registry.get(GROUP)


# -- the worker process -------------------------------------------------------------------


async def serve(url: str, prefix: str, batch_size: int) -> None:
    """The worker process: connect, say "ready", run from "go" until stdin closes.

    Waiting for "go" keeps interpreter start-up and imports out of the throughput
    figure; stopping on end of input makes the worker stop with the benchmark, even
    when the benchmark is killed.
    """
    quiet_logs()
    redis = await connect_redis(url)
    store = EventStore(redis, StreamNames(prefix, PARTITIONS))
    worker = Worker(quoter(), store, RuntimeConfig(batch_size=batch_size, block_ms=BLOCK_MS))
    print("ready", flush=True)
    if (await asyncio.to_thread(sys.stdin.readline)).strip() == "go":
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await asyncio.to_thread(sys.stdin.readline)
        stop.set()
        await running
    await redis.aclose()


@dataclass
class WorkerProcess:
    """The benchmark's handle on the worker process: start it, watch it, stop it."""

    url: str
    prefix: str
    batch_size: int
    process: asyncio.subprocess.Process | None = None
    stats: psutil.Process | None = None

    async def start(self) -> psutil.Process:
        """Start the process and wait until it has connected (it has not started yet)."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.runtime", "--serve",
            "--url", self.url, "--prefix", self.prefix, "--batch-size", str(self.batch_size),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise SystemExit(f"the worker process did not start (it said {line!r})")
        self.stats = psutil.Process(self.process.pid)
        return self.stats

    async def go(self) -> None:
        """Let the worker start working."""
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def rss(self) -> int:
        """The worker's resident memory, in bytes."""
        assert self.stats is not None
        resident: int = self.stats.memory_info().rss
        return resident

    async def stop(self) -> None:
        """Close its input, which makes it shut down gracefully; kill it if it hangs."""
        if self.process is None or self.process.returncode is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


# -- the benchmark ------------------------------------------------------------------------


@dataclass
class Outputs:
    """Counts the quotes the worker has stored, across the partitions of "quotes"."""

    redis: Redis
    streams: list[str]

    async def count(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for stream in self.streams:
            pipe.xlen(stream)
        return sum(int(length) for length in await pipe.execute())

    async def wait_for(self, wanted: int, worker: WorkerProcess, *, poll_s: float = 0.02) -> None:
        """Return once `wanted` quotes are stored; fail if the worker dies or stalls."""
        last, last_change = -1, time.monotonic()
        while (stored := await self.count()) < wanted:
            if not worker.alive():
                raise SystemExit("the worker process exited")
            if stored != last:
                last, last_change = stored, time.monotonic()
            elif time.monotonic() - last_change > STALL_S:
                raise SystemExit(f"the worker stored no quote for {STALL_S:.0f}s at {stored:,}")
            await asyncio.sleep(poll_s)


@dataclass
class Usage:
    """CPU time of the worker and of redis-server (when it is ours) over one phase.

    Producer, worker and Redis share two cores here: usage tells which of them limited
    a phase, and a worker's CPU time per event varies far less between runs than rates.
    """

    worker: psutil.Process
    redis: psutil.Process | None
    started: float = 0.0
    worker_cpu: float = 0.0
    redis_cpu: float = 0.0

    def start(self) -> None:
        self.started = time.perf_counter()
        self.worker_cpu = cpu_seconds(self.worker)
        self.redis_cpu = cpu_seconds(self.redis) if self.redis else 0.0

    def figures(self, phase: str, events: int) -> Result:
        """Percent of one core each process used since `start`, and worker CPU per event."""
        elapsed = time.perf_counter() - self.started
        worker = cpu_seconds(self.worker) - self.worker_cpu
        redis = cpu_seconds(self.redis) - self.redis_cpu if self.redis else None
        return {
            f"{phase}_worker_cpu_pct": round(100 * worker / elapsed, 1),
            f"{phase}_worker_cpu_us_per_event": round(1e6 * worker / max(1, events), 1),
            f"{phase}_redis_cpu_pct": None if redis is None else round(100 * redis / elapsed, 1),
        }


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def measure(server: Server, *, quick: bool) -> Result:
    """Run the three phases with one worker process and collect the figures."""
    cp_events = 50_000 if quick else 200_000
    seconds = 3.0 if quick else 10.0
    soak_events = 200_000 if quick else 1_000_000
    prefix = fresh_prefix("runtime")
    names = StreamNames(prefix, PARTITIONS)
    redis = Redis.from_url(server.url)
    store = EventStore(redis, names)
    outputs = Outputs(redis, names.category_streams(OUTPUTS))
    worker = WorkerProcess(server.url, prefix, BATCH_SIZE)
    try:
        note(f"building and loading {cp_events:,} ticks")
        await store.append_many(INPUTS, ticks(0, cp_events))
        usage = Usage(await worker.start(), server_process(server))
        result: Result = dict.fromkeys(("cp_eps", "e2e_p50_ms", "e2e_p99_ms", "rss_growth_pct"))
        cp, warm_rss = await throughput(worker, outputs, cp_events, usage)
        result |= cp
        result |= await end_to_end(store, outputs, cp_events, seconds, usage)
        result |= await soak(store, worker, outputs, soak_events, warm_rss)
        return result | {
            "batch_size": BATCH_SIZE,
            "redis_version": await redis_version(redis),
            "quick": quick,
        }
    finally:
        await worker.stop()
        await forget(redis, prefix)
        await redis.aclose()


def server_process(server: Server) -> psutil.Process | None:
    """The redis-server process, when it is ours to watch."""
    child = server.embedded.child if server.embedded else None
    return psutil.Process(child.pid) if child and child.pid else None


async def throughput(
    worker: WorkerProcess, outputs: Outputs, count: int, usage: Usage
) -> tuple[Result, int]:
    """Events per second from "go" until all `count` loaded ticks have their quote.

    Also returns the worker's RSS after the first `WARMUP` events, the memory baseline.
    """
    note(f"worker started on {count:,} loaded ticks (batch size {worker.batch_size})")
    warm_at = min(WARMUP, count)
    usage.start()
    await worker.go()
    await outputs.wait_for(warm_at, worker)
    warm_rss = worker.rss()
    note(f"  {warm_at:,} handled; worker RSS {warm_rss / 2**20:.1f} MB")
    await outputs.wait_for(count, worker)
    figures = usage.figures("cp", count)
    eps = count / (time.perf_counter() - usage.started)
    note(f"  {eps:,.0f} events/s; worker CPU {figures['cp_worker_cpu_pct']}%")
    return {"cp_eps": round(eps), "cp_events": count, **figures}, warm_rss


async def end_to_end(
    store: EventStore, outputs: Outputs, first: int, seconds: float, usage: Usage
) -> Result:
    """Latencies of ticks sent at `RATE` for `seconds`, from send to quote stored."""
    note(f"latency at {RATE:,} events/s for {seconds:.0f}s")
    arrivals = Arrivals(outputs.redis, await last_positions(outputs.redis, outputs.streams))
    reading = asyncio.create_task(arrivals.read())
    sent = 0
    usage.start()
    try:
        sent = await produce(store, first, round(RATE * seconds))
    finally:
        figures = usage.figures("e2e", sent)
        arrivals.expect(sent, within_s=GRACE_S)
        await reading
    latencies = arrivals.latencies
    if len(latencies) < sent:
        lost = sent - len(latencies)
        note(f"  warning: {lost:,} of {sent:,} quotes did not arrive within {GRACE_S:.0f}s")
    p50, p99 = percentile_ms(latencies, 50), percentile_ms(latencies, 99)
    note(f"  p50 {p50} ms, p99 {p99} ms; worker CPU {figures['e2e_worker_cpu_pct']}%")
    return {
        "e2e_p50_ms": p50,
        "e2e_p99_ms": p99,
        "e2e_max_ms": round(max(latencies) / 1e6, 3),
        "e2e_rate": RATE,
        "e2e_events": len(latencies),
        "e2e_lost": sent - len(latencies),
        **figures,
    }


async def produce(store: EventStore, first: int, count: int) -> int:
    """Append `count` ticks at `RATE`, paced by the clock, each stamped when it is sent.

    Every millisecond or so it sends the ticks that are due by then, in one batch, so
    the offered load stays at `RATE` even when one append takes longer than usual.
    """
    started = time.perf_counter()
    sent = 0
    while sent < count:
        due = min(count, int((time.perf_counter() - started) * RATE) + 1)
        if due > sent:
            now = time.time_ns()
            batch = [tick(seq, now) for seq in range(first + sent, first + due)]
            await store.append_batch(INPUTS, batch)
            sent = due
        await asyncio.sleep(0.001)
    return sent


async def last_positions(redis: Redis, streams: list[str]) -> dict[str, str]:
    """Where each stream ends now, so the reader sees only what is appended from here on."""
    positions: dict[str, str] = {}
    for stream in streams:
        last = entries(await redis.xrevrange(stream, "+", "-", count=1))
        positions[stream] = last[0][0].decode() if last else "0-0"
    return positions


@dataclass
class Arrivals:
    """Reads quotes as they are stored and records how long after its tick each arrived.

    The reader stops by itself once the expected quotes are in, or the grace period is
    over, instead of being cancelled: redis-py 8.1 now and then loses the cancellation
    of a command in flight when the client has a socket timeout (5 s by default since
    8.0), and a reader that missed it would run, and be awaited, forever.
    """

    redis: Redis
    positions: dict[str, str]
    latencies: list[int] = field(default_factory=list)
    expected: int | None = None
    deadline: float = math.inf

    def expect(self, count: int, within_s: float) -> None:
        """Stop once `count` quotes have arrived, or `within_s` from now at the latest."""
        self.expected = count
        self.deadline = time.monotonic() + within_s

    def done(self) -> bool:
        if self.expected is None:
            return False
        return len(self.latencies) >= self.expected or time.monotonic() > self.deadline

    async def read(self) -> None:
        """Block on every quote stream at once, recording arrivals, until done."""
        while not self.done():
            reply = await self.redis.xread(self.positions, block=BLOCK_MS, count=1000)  # type: ignore[arg-type]
            arrived = time.time_ns()
            for stream, batch in stream_replies(reply):
                name = stream.decode()
                for entry_id, fields in batch:
                    self.positions[name] = entry_id.decode()
                    self.latencies.append(arrived - orjson.loads(fields[PAYLOAD])["sent_ns"])


async def soak(
    store: EventStore, worker: WorkerProcess, outputs: Outputs, total: int, warm_rss: int
) -> Result:
    """Feed ticks in chunks until the worker has handled `total`, then compare its RSS.

    The next chunk is appended while the worker is still on the previous one, so it is
    never idle, and the backlog never exceeds two chunks.
    """
    handled = await outputs.count()
    note(f"feeding {max(0, total - handled):,} more ticks until {total:,} are handled")
    appended = handled
    while appended < total:
        chunk = min(SOAK_CHUNK, total - appended)
        await store.append_many(INPUTS, ticks(appended, chunk, what="ticks"))
        await outputs.wait_for(appended, worker)
        appended += chunk
        note(f"  {appended:,} appended; worker RSS {worker.rss() / 2**20:.1f} MB")
    await outputs.wait_for(total, worker)
    final_rss = worker.rss()
    handled = await outputs.count()
    note(f"  {handled:,} handled; worker RSS {final_rss / 2**20:.1f} MB")
    return {
        "rss_growth_pct": round(100 * (final_rss - warm_rss) / warm_rss, 2),
        "rss_warm_mb": round(warm_rss / 2**20, 1),
        "rss_final_mb": round(final_rss / 2**20, 1),
        "rss_events": handled,
    }


def main() -> None:
    """Run the benchmark, or (with --serve) be its worker process."""
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        asyncio.run(serve(options.url, options.prefix, options.batch_size))
        return
    quiet_logs()
    with redis_server() as server:
        result = asyncio.run(measure(server, quick=options.quick))
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
