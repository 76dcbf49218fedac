"""What each wallet sent and received on chain, with how sure the chain is of it.

One document per wallet and value transfer (an ERC-20 ``Transfer`` log, or a
transaction's native value): ``<wallet>|<chain id>:<tx hash>:<log index or native>``,
so a transfer between two wallets shows in both wallets' activity, once each, with its
`direction` (``in``/``out``) and `counterparty` seen from that wallet. Fed by the chain
watcher's ``chain.observed`` / ``confirmed`` / ``retracted``: `status` says which came
last, as in `chain_events` (a retracted transfer is marked, not deleted; a confirmation
or retraction of another block than the one shown is old news and changes nothing).
Amounts are the watcher's: scaled by the token's decimals (None when unknown), with a
USD value where a price of the token's symbol was known when it was seen.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import IndexModel

from events.catalog import ChainEventConfirmed, ChainEventObserved, ChainEventRetracted
from events.catalog.chain import ChainRecord, ValueTransfer
from events.envelope import Payload, RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.indexes import paging_index
from projections.registry import read_model

STAGES: dict[type[Payload], str] = {
    ChainEventObserved: "observed",
    ChainEventConfirmed: "confirmed",
    ChainEventRetracted: "retracted",
}


def transfer_id(record: ChainRecord) -> str:
    """``<chain id>:<tx hash>:<log index or native>``: one transfer, whatever its block."""
    where = "native" if record.log_index is None else str(record.log_index)
    return f"{record.chain_id}:{record.tx_hash}:{where}"


def transfer_of(record: ChainRecord) -> ValueTransfer | None:
    """The value a record moved, if it is a transfer (not another event carrying one)."""
    if record.transfer is None or not (record.native or record.event == "Transfer"):
        return None
    return record.transfer


@read_model()
class WalletActivity(Projection):
    name: ClassVar[str] = "wallet_activity"
    categories: ClassVar[tuple[str, ...]] = ("chain",)
    types: ClassVar[frozenset[str] | None] = frozenset(stage.event_type for stage in STAGES)
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("observed_at", "wallet"),
        paging_index("observed_at", "wallet", "status"),
        paging_index("observed_at", "tx_hash"),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        record = _record_of(recorded)
        transfer = transfer_of(record)
        if transfer is None:
            return ()
        wallets = dict.fromkeys((transfer.sender, transfer.recipient))
        return tuple(f"{wallet}|{transfer_id(record)}" for wallet in wallets)

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        payload = recorded.event.payload
        record = _record_of(recorded)
        status = STAGES[type(payload)]
        shown = document["block_hash"] if document else None
        if status != "observed" and shown != record.block_hash:
            return None  # settles an observation this document no longer shows
        transfer = transfer_of(record)
        assert transfer is not None, "keys() gave no key to anything else"
        wallet = key.partition("|")[0]
        sent = transfer.sender == wallet
        received_too = transfer.recipient == wallet  # to oneself: both, shown as out
        return {
            "wallet": wallet,
            "direction": "out" if sent else "in",
            "counterparty": transfer.recipient if sent and not received_too else transfer.sender,
            "chain_id": record.chain_id,
            "block_number": record.block_number,
            "block_hash": record.block_hash,
            "block_time": record.block_time,
            "tx_hash": record.tx_hash,
            "log_index": record.log_index,
            "token": transfer.token,
            "symbol": transfer.symbol,
            "raw_amount": transfer.raw_amount,
            "amount": transfer.amount,
            "usd_value": transfer.usd_value,
            "status": status,
            "observed_at": document["observed_at"] if document else recorded.event.occurred_at,
            "updated_at": recorded.event.occurred_at,
        }


def _record_of(recorded: RecordedEvent) -> ChainRecord:
    payload = recorded.event.payload
    if not isinstance(payload, ChainEventObserved | ChainEventConfirmed | ChainEventRetracted):
        raise TypeError(f"expected a chain event, got {recorded.event.type}")
    return payload.record
