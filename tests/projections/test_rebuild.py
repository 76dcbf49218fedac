"""Rebuilding a read model while it serves: readers never see a partial collection."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import ClassVar

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from events.envelope import RecordedEvent
from events.store import EventStore
from impressox.settings import Settings
from projections.generations import Generation, Generations
from projections.model import Document, Projection
from projections.reader import ReadModels
from projections.rebuild import partition_statuses, projection_statuses, rebuild
from projections.runner import backlog
from tests.factories import Pinged, ping
from tests.handlers.support import FAST
from tests.polling import wait_until
from tests.readside import ProjectorThread

EVENTS = 3000
KEYS = 150


class PingTotals(Projection):
    """Per key: how many pings and their sum (a test read model, in no global registry)."""

    name: ClassVar[str] = "ping_totals"
    categories: ClassVar[tuple[str, ...]] = ("pings",)
    types: ClassVar[frozenset[str] | None] = frozenset({"test.ping"})

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        document = document or {"count": 0, "sum": 0}
        document["count"] += 1
        document["sum"] += payload.n
        return document


TOTALS = PingTotals()


@pytest.fixture
async def database(mongo_url: str, settings: Settings) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[settings.mongo_database]
    await client.drop_database(settings.mongo_database)
    await client.close()


@pytest.fixture
def projector(
    settings: Settings, redis_url: str, mongo_url: str, redis: Redis
) -> Iterator[ProjectorThread]:
    """After `redis`: stopped before the test's keys are removed."""
    thread = ProjectorThread(settings, redis_url, mongo_url)
    thread.projections = [TOTALS]
    thread.start()
    yield thread
    thread.stop()


def expected_totals() -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for n in range(EVENTS):
        count, total = totals.get(f"k{n % KEYS}", (0, 0))
        totals[f"k{n % KEYS}"] = (count + 1, total + n)
    return totals


async def read_totals(read_models: ReadModels) -> dict[str, tuple[int, int]]:
    collection = await read_models.collection(TOTALS.name)
    return {d["_id"]: (d["count"], d["sum"]) async for d in collection.find()}


async def caught_up(store: EventStore, database: AsyncDatabase[Document]) -> bool:
    state = await Generations(database).get(TOTALS.name)
    return state is not None and await backlog(TOTALS, state.active, store) == 0


async def test_a_rebuild_swaps_in_an_equal_collection_while_reads_go_on(
    store: EventStore, database: AsyncDatabase[Document], projector: ProjectorThread
) -> None:
    await store.append_many("pings", [ping(n, key=f"k{n % KEYS}") for n in range(EVENTS)])
    await wait_until(lambda: caught_up(store, database), within=90)
    wanted = expected_totals()
    read_models = ReadModels(database, [TOTALS], cache_s=0.0)
    assert await read_totals(read_models) == wanted
    before = {d["_id"]: d async for d in database["ping_totals_g1"].find()}

    progress: list[tuple[int, int]] = []
    task = asyncio.create_task(
        rebuild(TOTALS, store, database, FAST, progress=lambda *p: progress.append(p), poll_s=0.05)
    )
    reads = 0
    while True:  # read at least once while the rebuild runs, and on until it is done
        assert await read_totals(read_models) == wanted, f"read {reads} saw a partial model"
        reads += 1
        if task.done():
            break
        await asyncio.sleep(0.01)
    outcome = await task

    assert outcome.generation == Generation(TOTALS.name, 2)
    assert (await read_models.active(TOTALS.name)).number == 2
    after = {d["_id"]: d async for d in database["ping_totals_g2"].find()}
    assert after == before, "the rebuilt generation differs from the one it replaced"
    assert progress[0][0] == 0
    assert progress[-1][0] == progress[-1][1] == EVENTS
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(progress))
    await wait_until(lambda: _retired_removed(database))  # after the grace period
    assert "ping_totals_g1" not in await database.list_collection_names()
    assert await read_totals(read_models) == wanted


async def _retired_removed(database: AsyncDatabase[Document]) -> bool:
    state = await Generations(database).get(TOTALS.name)
    assert state is not None
    assert (state.active.number, state.building) == (2, None)
    return not state.retired


async def test_an_interrupted_rebuild_is_finished_by_the_projector(
    store: EventStore, database: AsyncDatabase[Document], projector: ProjectorThread
) -> None:
    await store.append_many("pings", [ping(n, key=f"k{n % KEYS}") for n in range(EVENTS)])
    await wait_until(lambda: caught_up(store, database), within=90)
    started = asyncio.Event()
    task = asyncio.create_task(
        rebuild(TOTALS, store, database, FAST, progress=lambda *_: started.set(), poll_s=0.05)
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: _active(database, 2), within=90)
    read_models = ReadModels(database, [TOTALS], cache_s=0.0)
    assert await read_totals(read_models) == expected_totals()


async def _active(database: AsyncDatabase[Document], number: int) -> bool:
    state = await Generations(database).get(TOTALS.name)
    return state is not None and state.active.number == number and state.building is None


async def test_statuses_report_generations_and_partitions(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    generations = Generations(database)
    (never_ran,) = await projection_statuses([TOTALS], store, generations)
    assert (never_ran.started, never_ran.active.number, never_ran.active_backlog) == (False, 1, 0)
    await store.append_many("pings", [ping(n, key=f"k{n % KEYS}") for n in range(300)])
    building = await generations.start_rebuild(TOTALS)
    (status,) = await projection_statuses([TOTALS], store, generations)
    assert status.started
    assert (status.active.number, status.building) == (1, building)
    assert status.active_backlog == status.building_backlog == 300
    partitions = await partition_statuses(TOTALS, building, store)
    assert [p.stream for p in partitions] == store.names.category_streams("pings")
    assert sum(p.backlog for p in partitions) == 300
    assert all(p.tracked is None and p.owner is None for p in partitions)
    outcome = await rebuild(TOTALS, store, database, FAST, poll_s=0.05)
    assert (outcome.generation, outcome.swapped_here) == (building, True)
    tracked = await partition_statuses(TOTALS, building, store)
    assert all(p.tracked is not None and p.backlog == 0 for p in tracked)
