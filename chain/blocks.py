"""Blocks, transactions and logs as a node returns them over JSON-RPC, parsed once.

The watcher asks the node for raw JSON (not web3's formatted `AttributeDict`s: building
those costs more than everything else a log goes through) and parses only the fields it
uses. Hashes, addresses and topics stay lowercase hex strings, the way the node writes
them and the events store them. A reply that lacks a field or holds a malformed one is a
`MalformedReplyError` naming it: a node's bug, never silently a zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chain.errors import MalformedReplyError

ZERO_HASH = "0x" + "0" * 64
"""The parent hash of a chain's first block."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction of a block read with its transactions (for native transfers)."""

    hash: str
    sender: str
    recipient: str | None
    """None for a contract creation."""
    value: int


@dataclass(frozen=True, slots=True)
class Block:
    """A block header, with its transactions when they were asked for."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int
    logs_bloom: bytes
    transactions: tuple[Transaction, ...] | None
    """None when the block was read without its transactions."""

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


@dataclass(frozen=True, slots=True)
class Log:
    """One log of one transaction."""

    address: str
    topics: tuple[str, ...]
    data: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    block_timestamp: int | None
    """Some nodes (anvil, recent geth) put the block's time in each log; None elsewhere."""

    @property
    def key(self) -> tuple[str, int]:
        """(transaction, log index): what one log is, whichever query found it."""
        return (self.tx_hash, self.log_index)


def parse_block(reply: Any, *, with_transactions: bool) -> Block:
    """A block from `eth_getBlockByNumber` / `eth_getBlockByHash`."""
    fields = _object(reply, "block")
    transactions = None
    if with_transactions:
        listed = fields.get("transactions")
        if not isinstance(listed, list):
            raise MalformedReplyError("block: 'transactions' is not a list")
        transactions = tuple(_transaction(item) for item in listed)
    return Block(
        number=_quantity(fields, "number", "block"),
        hash=_hex(fields, "hash", "block"),
        parent_hash=_hex(fields, "parentHash", "block"),
        timestamp=_quantity(fields, "timestamp", "block"),
        logs_bloom=bytes.fromhex(_hex(fields, "logsBloom", "block")[2:]),
        transactions=transactions,
    )


def parse_logs(reply: Any) -> list[Log]:
    """The logs of an `eth_getLogs` reply; logs the node flags ``removed`` are left out
    (a node reporting its own reorg through a filter; we find reorgs by block hashes)."""
    if not isinstance(reply, list):
        raise MalformedReplyError("eth_getLogs: the result is not a list")
    return [_log(item) for item in reply if not (isinstance(item, dict) and item.get("removed"))]


def _log(item: Any) -> Log:
    fields = _object(item, "log")
    topics = fields.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise MalformedReplyError("log: 'topics' is not a list of hex strings")
    timestamp = fields.get("blockTimestamp")
    return Log(
        address=_hex(fields, "address", "log"),
        topics=tuple(topic.lower() for topic in topics),
        data=_hex(fields, "data", "log"),
        block_number=_quantity(fields, "blockNumber", "log"),
        block_hash=_hex(fields, "blockHash", "log"),
        tx_hash=_hex(fields, "transactionHash", "log"),
        log_index=_quantity(fields, "logIndex", "log"),
        block_timestamp=int(timestamp, 16) if isinstance(timestamp, str) else None,
    )


def _transaction(item: Any) -> Transaction:
    fields = _object(item, "transaction")
    recipient = fields.get("to")
    return Transaction(
        hash=_hex(fields, "hash", "transaction"),
        sender=_hex(fields, "from", "transaction"),
        recipient=recipient.lower() if isinstance(recipient, str) else None,
        value=_quantity(fields, "value", "transaction"),
    )


def parse_quantity(reply: Any, what: str) -> int:
    """A JSON-RPC quantity (``0x1b4``) such as `eth_blockNumber`'s."""
    if not isinstance(reply, str) or not reply.startswith("0x"):
        raise MalformedReplyError(f"{what}: {reply!r} is not a hex quantity")
    try:
        return int(reply, 16)
    except ValueError:
        raise MalformedReplyError(f"{what}: {reply!r} is not a hex quantity") from None


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedReplyError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _quantity(fields: Mapping[str, Any], name: str, what: str) -> int:
    return parse_quantity(fields.get(name), f"{what} {name!r}")


def _hex(fields: Mapping[str, Any], name: str, what: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise MalformedReplyError(f"{what}: {name!r} is not hex: {value!r}")
    return value.lower()


def hex_quantity(number: int) -> str:
    """A block number as JSON-RPC writes it."""
    return hex(number)


def topic_of_address(address: str) -> str:
    """An address as an indexed topic: left-padded to 32 bytes."""
    return "0x" + address[2:].lower().rjust(64, "0")


def address_of_topic(topic: str) -> str:
    """The address an indexed address topic holds (its last 20 bytes)."""
    return "0x" + topic[-40:]


def unique_logs(batches: Sequence[Sequence[Log]]) -> list[Log]:
    """Logs of several queries, each once, in chain order (block, then log index)."""
    seen: dict[tuple[str, int], Log] = {}
    for batch in batches:
        for log in batch:
            seen.setdefault(log.key, log)
    return sorted(seen.values(), key=lambda log: (log.block_number, log.log_index))
