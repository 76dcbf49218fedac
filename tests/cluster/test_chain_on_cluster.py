"""The chain watcher's atomic step, its lease and the partitioner on a Redis Cluster:
the journal and the state share the {chain} slot, the partitioner spreads the events
over partitions that live on other nodes."""

from __future__ import annotations

from chain.journal import ChainJournal, Cursor, Step
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from tests.chain.test_partitioner import journal_of
from tests.handlers.support import FAST, read_all, running
from tests.polling import wait_until


async def test_a_step_and_the_lease_run_in_the_chain_slot(store: EventStore) -> None:
    journal = ChainJournal(store, 31337)
    assert await journal.hold_lease("watcher-a", 5_000, {"head": 7})
    assert not await journal.hold_lease("watcher-b", 5_000, {})
    cursor = Cursor(7, "0x" + "07" * 32, 6)
    await journal.commit(Step(cursor=cursor), expected=None, owner="watcher-a")
    assert (await journal.load()).cursor == cursor
    assert await journal.status() == {"head": "7"}


async def test_the_partitioner_spreads_the_journal_over_the_nodes(store: EventStore) -> None:
    journal = await journal_of(store, 40)
    async with running(Worker(HANDLERS.get("chain-partitioner"), store, FAST)):

        async def copied() -> bool:
            return len(await read_all(store, "chain")) == len(journal)

        await wait_until(copied)
    assert sorted(e.event_id for e in await read_all(store, "chain")) == sorted(
        e.event_id for e in journal
    )
