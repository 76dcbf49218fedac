"""The projection runtime: batches, idempotency per document, poison, outages."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from events.envelope import RecordedEvent
from events.store import EventStore
from handlers.dead_letters import EntryDeadLettered
from handlers.worker import Worker
from projections.generations import Generation
from projections.model import POSITION, Document, Projection
from projections.projector import ConflictingWriteError, Projector
from projections.runner import backlog, generation_spec
from tests.factories import Pinged, ping
from tests.handlers.support import FAST, read_all, running
from tests.polling import wait_until


class Totals(Projection):
    """Per key: how many pings, their sum, and the order they came in."""

    name: ClassVar[str] = "totals"
    categories: ClassVar[tuple[str, ...]] = ("pings",)
    failing: ClassVar[set[int]] = set()

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        if payload.n in self.failing:
            raise ValueError(f"cannot apply ping {payload.n}")
        document = document or {"count": 0, "sum": 0, "order": []}
        document["count"] += 1
        document["sum"] += payload.n
        document["order"].append(payload.n)
        return document


@pytest.fixture
async def database(mongo_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"db_{prefix}"]
    await client.drop_database(f"db_{prefix}")
    await client.close()


async def recorded_pings(store: EventStore, count: int, keys: int) -> list[RecordedEvent]:
    await store.append_many("pings", [ping(n, key=f"k{n % keys}") for n in range(count)])
    return [recorded async for recorded in store.read_category("pings")]


async def documents(database: AsyncDatabase[Document], name: str) -> dict[str, Document]:
    return {d["_id"]: d async for d in database[name].find()}


async def test_a_batch_writes_each_document_once_with_every_event_folded(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    events = await recorded_pings(store, 300, keys=3)
    await Projector(Totals(), database["totals"]).handle_batch(events)
    found = await documents(database, "totals")
    assert sorted(found) == ["k0", "k1", "k2"]
    assert found["k1"]["order"] == [n for n in range(300) if n % 3 == 1]
    assert found["k1"][POSITION] > found["k1"][POSITION][:0]


async def test_replaying_any_split_of_the_events_gives_the_same_documents(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    events = await recorded_pings(store, 200, keys=5)
    once = Projector(Totals(), database["once"])
    await once.handle_batch(events)
    twice = Projector(Totals(), database["twice"])
    # Redeliveries and replays overlap what was applied, but never skip ahead in a stream.
    for start, end in ((0, 70), (30, 150), (0, 200), (150, 200)):
        await twice.handle_batch(events[start:end])
    assert await documents(database, "once") == await documents(database, "twice")


async def test_a_stale_writer_is_refused_not_merged(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    """Two writers read the same document; the slower one's write must not land."""
    events = await recorded_pings(store, 10, keys=1)
    first = Projector(Totals(), database["totals"])
    await first.handle_batch(events[:5])
    slow = Projector(Totals(), database["totals"])
    stale = await slow.replacements({"k0": events[5:8]})
    await first.handle_batch(events[5:10])
    with pytest.raises(ConflictingWriteError):
        await slow.submit(stale)
    found = await documents(database, "totals")
    assert found["k0"]["order"] == list(range(10))


async def test_the_runtime_isolates_an_event_that_cannot_be_applied(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    Totals.failing = {7}
    try:
        await store.append_many("pings", [ping(n, key="same") for n in range(20)])
        generation = Generation("totals", 1)
        spec = generation_spec(Totals(), generation, database)
        async with running(Worker(spec, store, FAST)):
            await wait_until(lambda: _caught_up(store, generation))
        found = await documents(database, generation.collection)
        assert found["same"]["order"] == [n for n in range(20) if n != 7]
        letters = await read_all(store, f"dead.{generation.group}")
        assert len(letters) == 1
        letter = letters[0].payload
        assert isinstance(letter, EntryDeadLettered)
        assert "cannot apply ping 7" in letter.error
    finally:
        Totals.failing = set()


async def _caught_up(store: EventStore, generation: Generation) -> bool:
    return await backlog(Totals(), generation, store) == 0


async def test_an_outage_does_not_use_up_attempts(
    store: EventStore, database: AsyncDatabase[Document], mongo_url: str
) -> None:
    """MongoDB unreachable: the batch waits (no dead letters), then goes through."""
    from events.errors import DependencyUnavailableError  # noqa: PLC0415

    class Flaky(Projector):
        outages = 6  # more than max_deliveries

        async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
            if Flaky.outages:
                Flaky.outages -= 1
                raise DependencyUnavailableError("MongoDB is unavailable: test")
            await super().handle_batch(batch)

    await store.append_many("pings", [ping(n, key="k") for n in range(5)])
    generation = Generation("totals", 1)
    base = generation_spec(Totals(), generation, database)
    collection = database[generation.collection]
    spec = type(base)(
        name=base.name,
        categories=base.categories,
        types=base.types,
        factory=lambda _context: Flaky(Totals(), collection),
    )
    config = dataclasses.replace(FAST, max_deliveries=2)
    async with running(Worker(spec, store, config)):
        await wait_until(lambda: _caught_up(store, generation))
    found = await documents(database, generation.collection)
    assert found["k"]["count"] == 5
    assert await read_all(store, f"dead.{generation.group}") == []
