"""Contract logs seen on EVM chains, one document per log (``chain:tx:log index``).

Two producers feed it: the chain watcher (``chain.observed`` / ``confirmed`` /
``retracted``) and, from before it, logs ingested from outside (``chain.log``, whose
``removed=True`` announces a reorg). A document's `status` is ``observed``,
``confirmed`` or ``retracted``; `removed` is true for a retracted one. A retracted log is
marked, not deleted, so a replay of the older announcement cannot bring it back (and a
log re-included later, in another block, is shown again). A confirmation or retraction
of another block than the one a document shows is old news and changes nothing.
Native transfers are not logs: the `wallet_activity` read model shows them.
Hashes and addresses are kept in lowercase, so queries need not guess the spelling.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import ASCENDING, IndexModel

from events.catalog import (
    ChainEventConfirmed,
    ChainEventObserved,
    ChainEventRetracted,
    ChainLogObserved,
    ChainRecord,
)
from events.envelope import Payload, RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.free_form import to_text
from projections.readmodels.indexes import paging_index
from projections.registry import read_model

_STAGES: dict[type[Payload], str] = {
    ChainEventObserved: "observed",
    ChainEventConfirmed: "confirmed",
    ChainEventRetracted: "retracted",
}


def log_id(chain_id: int, tx_hash: str, log_index: int) -> str:
    return f"{chain_id}:{tx_hash.lower()}:{log_index}"


@read_model()
class ChainEvents(Projection):
    name: ClassVar[str] = "chain_events"
    categories: ClassVar[tuple[str, ...]] = ("chain",)
    types: ClassVar[frozenset[str] | None] = frozenset(
        {ChainLogObserved.event_type, *(stage.event_type for stage in _STAGES)}
    )
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("observed_at"),
        paging_index("observed_at", "address"),
        paging_index("observed_at", "chain_id"),
        paging_index("observed_at", "event"),
        IndexModel([("tx_hash", ASCENDING), ("log_index", ASCENDING)]),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        payload = recorded.event.payload
        if isinstance(payload, ChainLogObserved):
            return (log_id(payload.chain_id, payload.tx_hash, payload.log_index),)
        record = _record_of(recorded)
        if record.log_index is None:
            return ()
        return (log_id(record.chain_id, record.tx_hash, record.log_index),)

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        payload = recorded.event.payload
        if isinstance(payload, ChainLogObserved):
            status = "retracted" if payload.removed else "observed"
            return _document(_of_ingested(payload), status, document, recorded)
        record = _record_of(recorded)
        status = _STAGES[type(payload)]
        shown = document["block_hash"] if document else None
        if status != "observed" and shown != record.block_hash:
            return None  # settles an observation this document no longer shows
        return _document(_of_record(record), status, document, recorded)


def _of_ingested(log: ChainLogObserved) -> Document:
    return {
        "chain_id": log.chain_id,
        "block_number": log.block_number,
        "block_hash": log.block_hash.lower(),
        "tx_hash": log.tx_hash.lower(),
        "log_index": log.log_index,
        "address": log.address.lower(),
        "event": log.event,
        "args_json": to_text(log.args),
    }


def _of_record(record: ChainRecord) -> Document:
    raw = {"topics": list(record.topics), "data": record.data} if record.topics else {}
    return {
        "chain_id": record.chain_id,
        "block_number": record.block_number,
        "block_hash": record.block_hash,
        "tx_hash": record.tx_hash,
        "log_index": record.log_index,
        "address": record.address,
        "event": record.event,
        "args_json": to_text(record.args or raw),
    }


def _document(
    fields: Document, status: str, document: Document | None, recorded: RecordedEvent
) -> Document:
    observed_at = document["observed_at"] if document else recorded.event.occurred_at
    return {
        **fields,
        "status": status,
        "removed": status == "retracted",
        "observed_at": observed_at,
        "updated_at": recorded.event.occurred_at,
    }


def _record_of(recorded: RecordedEvent) -> ChainRecord:
    payload = recorded.event.payload
    if not isinstance(payload, ChainEventObserved | ChainEventConfirmed | ChainEventRetracted):
        raise TypeError(f"expected a chain event, got {recorded.event.type}")
    return payload.record
