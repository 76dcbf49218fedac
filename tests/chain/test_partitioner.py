"""`chain-partitioner`: the chain journal copied into the partitioned `chain` category,
every event once, each key's events in journal order, a redelivered batch a no-op."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from chain.journal import ChainJournal, Step
from chain.observations import Observation, observation_id
from chain.partitioner import ChainPartitioner
from events.catalog import ChainRecord
from events.envelope import Event
from events.store import EventStore
from handlers.declaration import HANDLERS, HandlerContext
from handlers.worker import Worker
from tests.handlers.support import FAST, read_all, running
from tests.polling import wait_until

BLOCK = "0x" + "0b" * 32


def observation(contract: int, log_index: int) -> Observation:
    tx_hash = f"0x{log_index:064x}"
    record = ChainRecord(
        chain_id=31337,
        block_number=7,
        block_hash=BLOCK,
        tx_hash=tx_hash,
        log_index=log_index,
        address=f"0x{contract:040x}",
        event="Ping",
        args={"n": log_index},
    )
    return Observation(observation_id(31337, BLOCK, tx_hash, log_index), record)


async def journal_of(store: EventStore, count: int) -> list[Event]:
    """`count` observations over five contracts, each confirmed, through the journal."""
    events: list[Event] = []
    for n in range(count):
        seen = observation(n % 5, n)
        events += (seen.observed(), seen.confirmed(1))
    await ChainJournal(store, 31337).commit(Step(events), expected="*", owner="")
    return events


async def test_every_journal_event_lands_once_in_its_keys_partition_in_order(
    store: EventStore,
) -> None:
    journal = await journal_of(store, 60)
    spec = HANDLERS.get("chain-partitioner")
    async with running(Worker(spec, store, FAST)):

        async def copied() -> bool:
            return len(await read_all(store, "chain")) == len(journal)

        await wait_until(copied)
    by_key: dict[str, list[UUID]] = defaultdict(list)
    for stream in store.names.category_streams("chain"):
        async for recorded in store.read_stream(stream):
            event = recorded.event
            assert stream == store.names.stream_for_key("chain", event.key)
            by_key[event.key].append(event.event_id)
    assert sum(len(ids) for ids in by_key.values()) == len(journal)
    for key, ids in by_key.items():
        assert ids == [e.event_id for e in journal if e.key == key]


async def test_a_batch_handled_twice_appends_nothing_twice(store: EventStore) -> None:
    """The crash between the copy and the commit of the journal position: redelivered."""
    await journal_of(store, 10)
    batch = [r async for r in store.read_stream(store.names.chain_journal())]
    partitioner = ChainPartitioner(HandlerContext(store))
    await partitioner.handle_batch(batch)
    await partitioner.handle_batch(batch)
    assert len(await read_all(store, "chain")) == len(batch) == 20
