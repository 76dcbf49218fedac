"""How long a tick takes to reach every WebSocket client following its symbol.

``python -m bench.ws_fanout [--json] [--quick] [--subscribers N]``

N clients (1,000; 100 quick) connect to ``/v1/ws`` of an API process and subscribe to
one symbol; ticks of that symbol are then appended one at a time, a fixed interval
apart. A delivery's latency is from just before the append call until the client has
the message: the append, the API's shared stream reader, the fan-out and the socket.
Percentiles are over every delivery of every tick; deliveries that never arrive are
counted, not hidden. The baseline, in the same run: the same ticks to one client.

The API is a separate process (``impressox api``), so its event loop never competes
with the clients' here. `ws_fanout_p99_ms` also measures an API someone else started
(`bench.readside` does): its rate limit must allow two requests per client (the
authentication and the subscription), or be off.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    PARTITIONS,
    Figure,
    Result,
    arguments,
    fresh_prefix,
    impressox_process,
    note,
    percentile_ms,
    quiet_logs,
    redis_server,
    report,
    run_fast,
)
from events.catalog import PriceTick
from events.envelope import Event
from events.store import EventStore
from handlers.config import RuntimeConfig
from impressox.connections import connect_mongo, connect_redis
from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.process import free_port, port_open
from impressox.services import build_services
from impressox.settings import Settings
from projections.readmodels.api_keys import ApiKeys
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner

SYMBOL = "WSFAN/USDT"
"""The symbol every client follows; no other benchmark appends its ticks."""

INTERVAL_S = 0.1
"""Time between ticks: long enough for one tick to reach everyone before the next."""

CONNECT_AT_ONCE = 50
"""Clients connecting concurrently: a thousand handshakes at once would time out."""

GRACE_S = 30.0
"""How long after the last tick its deliveries may take before they count as lost."""

FILES_PER_CLIENT = 2
"""Open files per client: its socket here, and the API's end when it runs here too."""

LABELS = {
    "ws_fanout_p50_ms": "tick appended -> received by each client, p50 (ms)",
    "ws_fanout_p99_ms": "tick appended -> received by each client, p99 (ms)",
    "ws_fanout_max_ms": "tick appended -> received by each client, max (ms)",
    "ws_fanout_lost": "deliveries that never arrived",
    "subscribers": "clients following the symbol",
    "ws_ticks": "ticks appended",
    "ws_one_p50_ms": "baseline: the same ticks to one client, p50 (ms)",
    "ws_one_p99_ms": "baseline: the same ticks to one client, p99 (ms)",
}


class _Client:
    """One subscriber: its connection, and when each tick (by position) reached it."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.arrived_ns: dict[str, int] = {}
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.socket:
            now = time.perf_counter_ns()
            message = orjson.loads(frame)
            if message["type"] == "event":
                self.arrived_ns[message["position"]] = now
            elif message["type"] in ("dropped", "error"):
                raise RuntimeError(f"the API refused a benchmark client: {message}")


async def ws_fanout_p99_ms(
    api_url: str, token: str, store: EventStore, subscribers: int = 1000, ticks: int = 50
) -> dict[str, Figure]:
    """Append `ticks` ticks of one symbol, one every `INTERVAL_S`, to `subscribers`
    clients of the API at `api_url` (http or ws); latency percentiles of all deliveries.

    `store` must write where the API reads (same Redis, prefix and partitions).
    """
    raise_open_file_limit(subscribers * FILES_PER_CLIENT + 1024)
    url = live_url(api_url)
    clients: list[_Client] = []
    try:
        for start in range(0, subscribers, CONNECT_AT_ONCE):
            batch = min(CONNECT_AT_ONCE, subscribers - start)
            clients += await asyncio.gather(*(_subscribed(url, token) for _ in range(batch)))
        sent_ns = await _append_ticks(store, ticks)
        await _wait_for_deliveries(clients, set(sent_ns))
    finally:
        await asyncio.gather(*(client.socket.close() for client in clients))
        await asyncio.gather(*(client.task for client in clients), return_exceptions=True)
    latencies = [
        client.arrived_ns[position] - sent
        for client in clients
        for position, sent in sent_ns.items()
        if position in client.arrived_ns
    ]
    return {
        "ws_fanout_p50_ms": percentile_ms(latencies, 50),
        "ws_fanout_p99_ms": percentile_ms(latencies, 99),
        "ws_fanout_max_ms": round(max(latencies) / 1e6, 3),
        "ws_fanout_lost": subscribers * ticks - len(latencies),
        "subscribers": subscribers,
        "ws_ticks": ticks,
    }


def live_url(api_url: str) -> str:
    """The WebSocket endpoint of the API at `api_url` (its http(s):// or ws(s):// base)."""
    base = api_url.rstrip("/")
    for plain, secure in (("http://", "https://"), ("ws://", "wss://")):
        if base.startswith(plain):
            base = "ws://" + base.removeprefix(plain)
        elif base.startswith(secure):
            base = "wss://" + base.removeprefix(secure)
    return base if base.endswith("/v1/ws") else f"{base}/v1/ws"


def raise_open_file_limit(wanted: int) -> None:
    """Let this process hold `wanted` sockets, as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


async def _subscribed(url: str, token: str) -> _Client:
    """A client authenticated and subscribed to `SYMBOL`, reading in the background."""
    socket = await connect(url, compression=None, open_timeout=60, max_queue=None)
    await socket.send(orjson.dumps({"type": "auth", "key": token}).decode())
    await socket.send(orjson.dumps({"type": "subscribe", "topic": f"prices:{SYMBOL}"}).decode())
    for expected in ("authenticated", "subscribed"):
        message = orjson.loads(await asyncio.wait_for(socket.recv(), 60))
        if message["type"] != expected:
            await socket.close()
            raise RuntimeError(f"the API refused a benchmark client: {message}")
    return _Client(socket)


async def _append_ticks(store: EventStore, count: int) -> dict[str, int]:
    """Append ticks one at a time, `INTERVAL_S` apart: each one's position and the
    moment just before its append began."""
    sent_ns: dict[str, int] = {}
    next_at = time.perf_counter()
    for number in range(count):
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        next_at += INTERVAL_S
        payload = PriceTick(
            symbol=SYMBOL,
            venue="bench",
            price=100 + number / 100,
            source_time=datetime.now(UTC),
            simulated=True,
        )
        started = time.perf_counter_ns()
        appended = await store.append("ticks", Event(key=SYMBOL, payload=payload))
        sent_ns[str(appended.position)] = started
    return sent_ns


async def _wait_for_deliveries(clients: list[_Client], positions: set[str]) -> None:
    """Until every client has every tick, or `GRACE_S` has passed."""
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        failed = next((c.task for c in clients if c.task.done()), None)
        if failed is not None:
            failed.result()  # raises why a client stopped reading
            raise RuntimeError("the API closed a benchmark client's connection")
        if all(positions <= client.arrived_ns.keys() for client in clients):
            return
        await asyncio.sleep(0.05)


# -- standalone: our own Redis, MongoDB and API process ---------------------------------------


@contextmanager
def mongo_server(data_dir: Path) -> Iterator[str]:
    """MONGO_URL when set, else a private SecantusDB in `data_dir`."""
    url = os.environ.get("MONGO_URL")
    if url:
        yield url
        return
    server = EmbeddedMongo(data_dir / "mongo")
    note("starting a private SecantusDB")
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def api_process(settings: Settings, redis_url: str, mongo_url: str) -> Iterator[str]:
    """`impressox api` as a child process on a free port, rate limit off: its URL."""
    port = free_port()
    child = impressox_process(
        "api",
        ["api"],
        settings,
        REDIS_URL=redis_url,
        MONGO_URL=mongo_url,
        IMPRESSOX_API_PORT=str(port),
        IMPRESSOX_RATE_LIMIT_PER_MINUTE="0",
        IMPRESSOX_USER_RATE_LIMIT_PER_MINUTE="0",
    )
    child.start()
    try:
        child.wait_ready(lambda: port_open("127.0.0.1", port), timeout=60, what="the API")
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stop()


async def wait_until_key_works(
    settings: Settings, redis_url: str, mongo_url: str, api_url: str, token: str
) -> None:
    """Project the API keys read model until the API accepts `token`, then stop."""
    redis = await connect_redis(redis_url)
    mongo = connect_mongo(mongo_url)
    runner = ProjectionRunner(
        projections=[PROJECTIONS.get(ApiKeys.name)],
        store=EventStore(redis, settings.stream_names()),
        database=mongo[settings.mongo_database],
        config=RuntimeConfig(block_ms=100),
        poll_s=0.2,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    try:
        for _ in range(600):
            async with connect(live_url(api_url)) as socket:
                await socket.send(orjson.dumps({"type": "auth", "key": token}).decode())
                if orjson.loads(await socket.recv())["type"] == "authenticated":
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError("the API did not accept the benchmark's key within a minute")
    finally:
        stop.set()
        await running
        await redis.aclose()
        await mongo.close()


async def measure(
    redis_url: str, mongo_url: str, data_dir: Path, *, subscribers: int, ticks: int
) -> Result:
    prefix = fresh_prefix("ws")
    settings = Settings(
        stream_prefix=prefix,
        mongo_database=f"bench_{prefix.replace('-', '_')}",
        data_dir=data_dir,
        partitions=PARTITIONS,
        rate_limit_per_minute=0,
        user_rate_limit_per_minute=0,
    )
    services = build_services(settings, redis_url)
    try:
        user_id = services.users.register("bench subscriber")
        token = services.users.issue_api_key(user_id, {"name": "bench", "scopes": ["user"]}).token
    finally:
        services.close()
    redis = await connect_redis(redis_url)
    store = EventStore(redis, settings.stream_names())
    try:
        with api_process(settings, redis_url, mongo_url) as api_url:
            await wait_until_key_works(settings, redis_url, mongo_url, api_url, token)
            note(f"baseline: {ticks} ticks to one client")
            one = await ws_fanout_p99_ms(api_url, token, store, subscribers=1, ticks=ticks)
            note(f"{ticks} ticks to {subscribers} clients")
            result: Result = dict(await ws_fanout_p99_ms(api_url, token, store, subscribers, ticks))
    finally:
        await redis.aclose()
    result["ws_one_p50_ms"] = one["ws_fanout_p50_ms"]
    result["ws_one_p99_ms"] = one["ws_fanout_p99_ms"]
    return result


def main() -> None:
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--subscribers", type=int, help="clients (default 1000; 100 quick)")
    options = parser.parse_args()
    quiet_logs()
    subscribers = options.subscribers or (100 if options.quick else 1000)
    ticks = 20 if options.quick else 50
    raise_open_file_limit(subscribers * FILES_PER_CLIENT + 1024)
    with (
        tempfile.TemporaryDirectory(prefix="impressox-bench-ws-") as data_dir,
        redis_server() as server,
        mongo_server(Path(data_dir)) as mongo_url,
    ):
        result = run_fast(
            measure(server.url, mongo_url, Path(data_dir), subscribers=subscribers, ticks=ticks)
        )
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
