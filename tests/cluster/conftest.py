"""Fixtures: a real three-master Redis Cluster per session, a cluster client per test.

The cluster runs as child processes of the test process (they die with it), on free
loopback ports, without replicas: three masters are what it takes for the partitions of
one deployment to land on different nodes. Set REDIS_CLUSTER_URL to run these tests
against a cluster of your own instead (any one node's URL).

A cluster that cannot be started fails every test here with the node's log, never skips:
these tests are the proof that the code runs unchanged on a cluster.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path

import pytest
import redis as redis_sync
from redis.asyncio.cluster import RedisCluster

import tests.factories  # noqa: F401 - registers the test payload types
from events.errors import InfrastructureError
from events.names import StreamNames
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.process import ChildProcess, free_port
from impressox.embedded.redis import find_redis_server

MASTERS = 3
BUS_PORT_OFFSET = 10_000
"""Redis Cluster nodes also listen on their port + 10000, for the cluster bus."""

STARTUP_TIMEOUT_S = 20.0


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_CLUSTER_URL when set, else a private three-master cluster for the session."""
    if os.environ.get("REDIS_CLUSTER_URL"):
        yield os.environ["REDIS_CLUSTER_URL"]
        return
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as url:
        yield url


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own: tests never see each other's streams."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def cluster(cluster_url: str, prefix: str) -> AsyncIterator[RedisCluster]:
    """A client made the way the application makes one: `connect_redis` must see a cluster."""
    client = await connect_redis(cluster_url)
    assert isinstance(client, RedisCluster), f"connect_redis returned {type(client).__name__}"
    await client.initialize()  # learn the slot map now: tests ask which node owns what
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    for start in range(0, len(keys), 500):
        await client.delete(*keys[start : start + 500])  # split by slot by the client
    await client.aclose()


@pytest.fixture
def redis(cluster: RedisCluster) -> RedisCluster:
    """The contracts' raw client: on this side of the suite, the cluster."""
    return cluster


@pytest.fixture
def names(prefix: str) -> StreamNames:
    return StreamNames(prefix, partitions=4)


@pytest.fixture
def store(cluster: RedisCluster, names: StreamNames) -> EventStore:
    return EventStore(cluster, names)


# -- the cluster ------------------------------------------------------------------------


@contextmanager
def redis_cluster(root: Path) -> Iterator[str]:
    """Start MASTERS nodes, join them into one cluster, and yield one node's URL."""
    binary = find_redis_server()
    cli = shutil.which("redis-cli") or str(binary.with_name("redis-cli"))
    if not Path(cli).exists():
        raise InfrastructureError("no redis-cli found: it is needed to create the cluster")
    nodes: list[tuple[int, ChildProcess]] = []
    try:
        for _ in range(MASTERS):
            nodes.append(_start_node(binary, root))
        _create(cli, nodes)
        for port, child in nodes:
            child.wait_ready(
                partial(_cluster_ok, port),
                timeout=STARTUP_TIMEOUT_S,
                what=f"cluster_state:ok on 127.0.0.1:{port}",
            )
        yield f"redis://127.0.0.1:{nodes[0][0]}"
    finally:
        for _, child in nodes:
            child.stop()


def _start_node(binary: Path, root: Path) -> tuple[int, ChildProcess]:
    """One cluster-enabled redis-server, answering PING; retried if it lost a port race."""
    attempts = 3
    for attempt in range(attempts):
        port = _cluster_port()
        data_dir = root / f"node-{port}"  # one directory each: AOF file names are fixed
        child = ChildProcess(
            f"redis-server 127.0.0.1:{port}",
            _node_argv(binary, port, data_dir),
            log_path=data_dir / "redis.log",
        )
        child.start()
        try:
            child.wait_ready(
                partial(_answers, port), timeout=STARTUP_TIMEOUT_S, what=f"127.0.0.1:{port}"
            )
        except InfrastructureError:
            if "Address already in use" not in child.log_tail(5) or attempt == attempts - 1:
                raise
            continue
        return port, child
    raise AssertionError("unreachable")


def _node_argv(binary: Path, port: int, data_dir: Path) -> list[str]:
    return [
        str(binary),
        "--port", str(port),
        "--cluster-enabled", "yes",
        "--cluster-config-file", f"nodes-{port}.conf",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--bind", "127.0.0.1",
        "--save", "",
        "--daemonize", "no",
    ]  # fmt: skip


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is a valid port and free too."""
    for _ in range(100):
        port = free_port()
        if port + BUS_PORT_OFFSET <= 65535 and _bindable(port + BUS_PORT_OFFSET):
            return port
    raise InfrastructureError("found no free port pair for a cluster node")


def _bindable(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _create(cli: str, nodes: list[tuple[int, ChildProcess]]) -> None:
    """`redis-cli --cluster create`: spread the 16384 slots over the nodes, no replicas."""
    addresses = [f"127.0.0.1:{port}" for port, _ in nodes]
    argv = [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as error:
        raise InfrastructureError(f"{' '.join(argv)} did not finish: {error}") from None
    if done.returncode != 0 or "All 16384 slots covered" not in done.stdout:
        logs = "\n".join(child.log_tail() for _, child in nodes)
        raise InfrastructureError(
            f"{' '.join(argv)} failed with code {done.returncode}:\n"
            f"{done.stdout}{done.stderr}\n{logs}"
        )


def _client(port: int) -> redis_sync.Redis:
    return redis_sync.Redis(port=port, socket_connect_timeout=0.2, socket_timeout=1)


def _answers(port: int) -> bool:
    try:
        with _client(port) as client:
            return bool(client.ping())
    except (redis_sync.ConnectionError, redis_sync.TimeoutError, redis_sync.ResponseError):
        return False


def _cluster_ok(port: int) -> bool:
    """Whether the node sees the whole cluster: state ok, every node known, every slot served."""
    try:
        with _client(port) as client:
            reply = client.execute_command("CLUSTER INFO")
    except (redis_sync.ConnectionError, redis_sync.TimeoutError, redis_sync.ResponseError):
        return False
    if isinstance(reply, bytes):  # redis-py parses it into a dict; older ones did not
        reply = dict(line.split(":", 1) for line in reply.decode().split() if ":" in line)
    info = {str(field): str(value) for field, value in reply.items()}
    return (
        info.get("cluster_state") == "ok"
        and info.get("cluster_known_nodes") == str(MASTERS)
        and info.get("cluster_slots_ok") == "16384"
    )
