"""Read models through a MongoDB outage: the projections runner waits for MongoDB (at
start and while running), dead-letters nothing, and every event reaches its document
once MongoDB is back.

The tests run a MongoDB of their own (SecantusDB), SIGKILL it and start it again on the
same port with its data, as `impressox up` does; Redis is the session's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from structlog.testing import capture_logs

from events.envelope import RecordedEvent
from events.position import Position
from events.store import EventStore
from impressox.embedded.mongo import EmbeddedMongo
from projections.model import Document, Projection
from projections.projector import Projector
from projections.runner import ProjectionRunner
from tests.factories import Pinged, ping
from tests.handlers.runtime_contract import stats
from tests.handlers.support import FAST
from tests.polling import wait_until
from tests.servers import kill, private_server

KEYS = 5


class PingCounts(Projection):
    """Per key: how many pings (a test read model, in no global registry)."""

    name: ClassVar[str] = "ping_counts"
    categories: ClassVar[tuple[str, ...]] = ("pings",)
    types: ClassVar[frozenset[str] | None] = frozenset({"test.ping"})

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        assert isinstance(recorded.event.payload, Pinged)
        document = document or {"count": 0}
        document["count"] += 1
        return document


COUNTS = PingCounts()


@pytest.fixture
def mongo(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    with private_server(EmbeddedMongo(tmp_path / "mongo")) as server:
        assert isinstance(server, EmbeddedMongo)
        yield server


@pytest.fixture
async def database(
    mongo: EmbeddedMongo, fresh_outages: None
) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        mongo.url, tz_aware=True, serverSelectionTimeoutMS=1000
    )
    yield client["outage"]
    await client.close()


def runner(store: EventStore, database: AsyncDatabase[Document]) -> ProjectionRunner:
    return ProjectionRunner(projections=[COUNTS], store=store, database=database, config=FAST,
                            poll_s=0.1)  # fmt: skip


async def counted(database: AsyncDatabase[Document]) -> int:
    return sum([document["count"] async for document in database["ping_counts_g1"].find()])


async def test_read_models_wait_out_a_mongodb_outage(
    mongo: EmbeddedMongo, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(runner(store, database).run(stop))
        await store.append_batch("pings", [ping(n, key=f"k{n % KEYS}") for n in range(50)])
        await wait_until(lambda: _reached(database, 50))
        kill(mongo)
        await store.append_batch("pings", [ping(n, key=f"k{n % KEYS}") for n in range(50, 100)])
        await wait_until(lambda: _said(logs, "MongoDB unavailable; waiting for it"))
        assert not running.done(), "the projections runner gave up while MongoDB was away"
        mongo.start()
        await wait_until(lambda: _reached(database, 100), within=60)
        stop.set()
        await asyncio.wait_for(running, 30)
    assert (await stats(store, COUNTS_GROUP)).get("dead_lettered", 0) == 0
    assert sum(1 for line in logs if line["event"] == "MongoDB is back") == 1
    assert not [line for line in logs if line["log_level"] == "error"]


async def test_the_runner_started_while_mongodb_is_away_waits_for_it(
    mongo: EmbeddedMongo, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    kill(mongo)
    await store.append_batch("pings", [ping(n, key=f"k{n % KEYS}") for n in range(10)])
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(runner(store, database).run(stop))
        await wait_until(lambda: _said(logs, "MongoDB unavailable; waiting for it"))
        assert not running.done(), "the projections runner gave up while MongoDB was away"
        mongo.start()
        await wait_until(lambda: _reached(database, 10), within=60)
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_what_a_projector_wrote_survives_a_mongodb_crash(
    mongo: EmbeddedMongo, database: AsyncDatabase[Document]
) -> None:
    """The runtime checkpoints a batch once its write is acknowledged: a write MongoDB
    acknowledged but could still lose would be missing from the read model for good."""
    projector = Projector(COUNTS, database["ping_counts_g1"])
    batch = [RecordedEvent("pings", Position(1, n), ping(n, key="k0")) for n in range(3)]
    await projector.handle_batch(batch)
    kill(mongo)
    mongo.start()
    assert await counted(database) == 3


COUNTS_GROUP = "proj-ping_counts-g1"


async def _reached(database: AsyncDatabase[Document], count: int) -> bool:
    return await counted(database) == count


async def _said(logs: Sequence[Mapping[str, Any]], event: str) -> bool:
    return any(line["event"] == event for line in logs)
