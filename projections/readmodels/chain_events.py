"""Contract logs seen on EVM chains, one document per log (``chain:tx:log index``).

A reorg can remove a log after it was seen: the watcher then announces it again with
``removed=True``, and the document is marked removed, not deleted, so a replay of the
older announcement cannot bring it back (and a log re-included later is shown again).
Hashes and addresses are kept in lowercase, so queries need not guess the spelling.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import IndexModel

from events.catalog import ChainLogObserved
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.free_form import to_text
from projections.readmodels.indexes import paging_index
from projections.registry import read_model


def log_id(chain_id: int, tx_hash: str, log_index: int) -> str:
    return f"{chain_id}:{tx_hash.lower()}:{log_index}"


@read_model()
class ChainEvents(Projection):
    name: ClassVar[str] = "chain_events"
    categories: ClassVar[tuple[str, ...]] = ("chain",)
    types: ClassVar[frozenset[str] | None] = frozenset({ChainLogObserved.event_type})
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("observed_at"),
        paging_index("observed_at", "address"),
        paging_index("observed_at", "chain_id"),
        paging_index("observed_at", "event"),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        log = _log_of(recorded)
        return (log_id(log.chain_id, log.tx_hash, log.log_index),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        log = _log_of(recorded)
        observed_at = document["observed_at"] if document else recorded.event.occurred_at
        return {
            "chain_id": log.chain_id,
            "block_number": log.block_number,
            "block_hash": log.block_hash.lower(),
            "tx_hash": log.tx_hash.lower(),
            "log_index": log.log_index,
            "address": log.address.lower(),
            "event": log.event,
            "args_json": to_text(log.args),
            "removed": log.removed,
            "observed_at": observed_at,
            "updated_at": recorded.event.occurred_at,
        }


def _log_of(recorded: RecordedEvent) -> ChainLogObserved:
    log = recorded.event.payload
    if not isinstance(log, ChainLogObserved):
        raise TypeError(f"expected a chain.log, got {recorded.event.type}")
    return log
