"""The `chain_events` read model, fed by the watcher's observed / confirmed / retracted.

A log's document follows its latest settled state; a confirmation or retraction of a
block the document no longer shows (the log moved to another block in a reorg) is old
news; native transfers are not logs and have no document here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from chain.observations import Observation, observation_id
from events.catalog import ChainRecord, ValueTransfer
from events.envelope import Event, RecordedEvent
from events.store import EventStore
from projections.model import Document
from projections.projector import Projector
from projections.readmodels.chain_events import ChainEvents, log_id
from projections.readmodels.free_form import from_text

TOKEN = "0x" + "ab" * 20
TX = "0x" + "c1" * 32
FIRST_BLOCK, SECOND_BLOCK = "0x" + "01" * 32, "0x" + "02" * 32


@pytest.fixture
async def database(mongo_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"db_{prefix}"]
    await client.drop_database(f"db_{prefix}")
    await client.close()


def seen(block_hash: str, *, log_index: int | None = 0, number: int = 10) -> Observation:
    """A transfer of TOKEN in transaction TX, as the watcher records it."""
    transfer = ValueTransfer(
        token=None if log_index is None else TOKEN,
        sender="0x" + "01" * 20,
        recipient="0x" + "02" * 20,
        raw_amount=str(2 * 10**30),
        decimals=18,
        amount=2e12,
    )
    record = ChainRecord(
        chain_id=1,
        block_number=number,
        block_hash=block_hash,
        block_time=datetime(2026, 1, 1, tzinfo=UTC),
        tx_hash=TX,
        log_index=log_index,
        address=None if log_index is None else TOKEN,
        event="" if log_index is None else "Transfer",
        args={} if log_index is None else {"value": 2 * 10**30},
        transfer=transfer,
    )
    return Observation(observation_id(1, block_hash, TX, log_index), record)


async def project(
    store: EventStore, database: AsyncDatabase[Document], events: Sequence[Event]
) -> dict[str, Document]:
    """Append `events`, project them in one batch each, return the documents."""
    projector = Projector(ChainEvents(), database["chain"])
    for event in events:
        (result,) = await store.append_batch("chain", [event])
        await projector.handle_batch([RecordedEvent(result.stream, result.position, event)])
    return {d["_id"]: d async for d in database["chain"].find()}


async def test_a_log_is_observed_then_confirmed(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    first = seen(FIRST_BLOCK)
    (document,) = (await project(store, database, [first.observed()])).values()
    assert (document["status"], document["removed"]) == ("observed", False)
    (document,) = (await project(store, database, [first.confirmed(12)])).values()
    assert document["_id"] == log_id(1, TX, 0)
    assert (document["status"], document["removed"], document["block_hash"]) == (
        "confirmed",
        False,
        FIRST_BLOCK,
    )
    assert from_text(document["args_json"]) == {"value": 2 * 10**30}


async def test_a_log_moved_by_a_reorg_shows_its_new_block_and_ignores_old_news(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    first, moved = seen(FIRST_BLOCK), seen(SECOND_BLOCK, number=11)
    documents = await project(
        store,
        database,
        [first.observed(), first.retracted(9, after_confirmation=False), moved.observed()],
    )
    (document,) = documents.values()
    assert (document["status"], document["block_hash"]) == ("observed", SECOND_BLOCK)
    stale = first.confirmed(12)  # a confirmation of the block the log left: old news
    (document,) = (await project(store, database, [stale])).values()
    assert (document["status"], document["block_hash"]) == ("observed", SECOND_BLOCK)
    (document,) = (await project(store, database, [moved.confirmed(12)])).values()
    assert document["status"] == "confirmed"


async def test_a_retracted_log_is_marked_removed(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    first = seen(FIRST_BLOCK)
    events = [first.observed(), first.retracted(9, after_confirmation=False)]
    (document,) = (await project(store, database, events)).values()
    assert (document["status"], document["removed"]) == ("retracted", True)


async def test_a_native_transfer_has_no_log_document(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    native = seen(FIRST_BLOCK, log_index=None)
    assert await project(store, database, [native.observed(), native.confirmed(12)]) == {}
