"""Fixtures: real servers per session, an isolated key prefix and store per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis

import tests.factories  # noqa: F401 - registers the test payload types
from aggregates.services.bundle import Services
from events import outages
from events.names import StreamNames
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.redis import EmbeddedRedis
from impressox.services import build_services
from tests.contexts import Contexts
from tests.servers import mongo_server, private_server, redis_server

if TYPE_CHECKING:
    from impressox.settings import Settings

pytest_plugins = ["tests.fixtures"]

TESTS = Path(__file__).parent
ONE_PROCESS_EACH = ("web", "cluster")
"""Directories whose tests share servers started once per process (a whole system and a
browser; a three-master Redis Cluster): under `pytest -n` (xdist's `--dist loadgroup`), all
of one directory runs in one process rather than starting them in every process."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for directory in ONE_PROCESS_EACH:
            if item.path.is_relative_to(TESTS / directory):
                item.add_marker(pytest.mark.xdist_group(directory))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mongo_server(tmp_path_factory.mktemp("mongo")) as url:
        yield url


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of the test's own, for tests that SIGKILL it (`tests.servers.kill`) and
    start it again; the session's Redis is everyone's."""
    with private_server(EmbeddedRedis(tmp_path / "redis")) as server:
        assert isinstance(server, EmbeddedRedis)
        yield server


@pytest.fixture
def fresh_outages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test sees outages of its own (`events.outages`): another may have ended
    during one, and what a process logs depends on whether it knows of one."""
    monkeypatch.setattr(outages, "_OUTAGES", {})


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own: tests never see each other's streams."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis(redis_url: str, prefix: str) -> AsyncIterator[Redis]:
    """A client made the way the application makes one (`connect_redis`)."""
    client = await connect_redis(redis_url)
    assert isinstance(client, Redis), "REDIS_URL names a cluster: use REDIS_CLUSTER_URL"
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    for start in range(0, len(keys), 500):
        await client.delete(*keys[start : start + 500])
    await client.aclose()


@pytest.fixture
def names(prefix: str) -> StreamNames:
    return StreamNames(prefix, partitions=4)


@pytest.fixture
def store(redis: Redis, names: StreamNames) -> EventStore:
    return EventStore(redis, names)


@pytest.fixture
async def contexts(store: EventStore, redis_url: str) -> AsyncIterator[Contexts]:
    made = Contexts(store, redis_url)
    yield made
    await made.aclose()


@pytest.fixture
def services(settings: Settings, redis_url: str) -> Iterator[Services]:
    """The aggregates' applications, on the `settings` fixture of the test's module."""
    built = build_services(settings, redis_url)
    yield built
    built.close()
