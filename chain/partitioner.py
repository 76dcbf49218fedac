"""The `chain-partitioner` handler: the chain journal, re-partitioned into `chain`.

A chain watcher appends to one stream, ``ix:{chain}:journal``, in the same hash slot as
its cursor, so that its appends and its cursor move in one atomic script on a Redis
Cluster too. Readers want chain events partitioned by key like every other category (the
rule engine and the read models run one task per partition), and a handler's outputs go
to its input's slot: so this handler copies each journal batch into the `chain`
category itself, each event to its key's partition, keeping its event id.

Exactly once: the store deduplicates appends by event id in each stream, so a batch
redelivered after a crash between the append and the commit of its tracking position
appends nothing twice; order per key holds, since the journal is read in order and a
batch is appended in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from events.envelope import RecordedEvent
from events.names import CHAIN_TAG
from events.store import MAX_BATCH
from handlers.declaration import HandlerContext, handler

CHAIN_CATEGORY = "chain"
JOURNAL_CATEGORY = "journal"


@handler("chain-partitioner", categories=[JOURNAL_CATEGORY], tags=[CHAIN_TAG])
class ChainPartitioner:
    def __init__(self, context: HandlerContext) -> None:
        self.store = context.store

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
        events = [recorded.event for recorded in batch]
        for start in range(0, len(events), MAX_BATCH):
            await self.store.append_batch(CHAIN_CATEGORY, events[start : start + MAX_BATCH])
