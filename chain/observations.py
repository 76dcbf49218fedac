"""From what a node returned to the events the watcher appends, with their ids.

**Ids.** An observation's id is a uuid5 of (chain id, block hash, transaction hash, log
index — ``native`` for a transaction's own value), so reading the same block twice (a
restart, a backfill over blocks already followed, two watchers) appends it once: the
store deduplicates by event id. Its confirmation's and retraction's ids derive from it.
A block that a reorg removed and a later reorg brought back (A → B → A) is observed a
second time: its `incarnation` (how often its hash was retracted) is part of the id.

**Records.** A log is decoded by `Decoders`; an ERC-20 `Transfer` (the bulk of what
wallets do) is read straight from its topics and data, which is all its decoding would
do, at a fraction of the cost. Amounts are scaled by the token's decimals (`TokenBook`);
a transfer's USD value is its amount at the price its symbol had when it was seen
(`UsdPriceBook`), where one was known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from chain.abis import Decoders
from chain.blocks import Block, Log, Transaction, address_of_topic
from chain.queries import TRANSFER_TOPIC
from chain.tokens import TokenBook
from chain.usd_prices import UsdPriceBook
from events.catalog.chain import (
    ChainEventConfirmed,
    ChainEventObserved,
    ChainEventRetracted,
    ChainRecord,
    ValueTransfer,
)
from events.envelope import Event, Payload

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/chain/event")
NATIVE_DECIMALS = 18
NATIVE_SYMBOLS = {56: "BNB", 137: "POL", 43114: "AVAX", 250: "FTM", 100: "XDAI"}
"""The native coin of chains whose coin is not ether (every other chain: ``ETH``)."""


def native_symbol(chain_id: int) -> str:
    return NATIVE_SYMBOLS.get(chain_id, "ETH")


_ERC20_DATA_LENGTH = 66  # 0x and one 32-byte word
_ERC20_TOPICS = 3


def observation_id(
    chain_id: int, block_hash: str, tx_hash: str, log_index: int | None, incarnation: int = 0
) -> UUID:
    """The id of the observation of one log (or native transfer) in one block."""
    where = "native" if log_index is None else str(log_index)
    name = f"{chain_id}:{block_hash}:{tx_hash}:{where}"
    return uuid5(_NAMESPACE, f"{name}#{incarnation}" if incarnation else name)


@dataclass(frozen=True, slots=True)
class Observation:
    """A record and the id it was observed under."""

    id: UUID
    record: ChainRecord

    def observed(self) -> Event:
        return _event(self.id, self.id, None, ChainEventObserved(record=self.record))

    def confirmed(self, confirmations: int) -> Event:
        payload = ChainEventConfirmed(
            record=self.record, observation_id=self.id, confirmations=confirmations
        )
        return _event(uuid5(_NAMESPACE, f"confirmed:{self.id}"), self.id, self.id, payload)

    def retracted(self, ancestor: int, *, after_confirmation: bool) -> Event:
        payload = ChainEventRetracted(
            record=self.record,
            observation_id=self.id,
            ancestor=ancestor,
            after_confirmation=after_confirmation,
        )
        return _event(uuid5(_NAMESPACE, f"retracted:{self.id}"), self.id, self.id, payload)


def _event(event_id: UUID, correlation: UUID, causation: UUID | None, payload: Payload) -> Event:
    # Every part is built and validated here: skip the envelope's second validation.
    model = type(payload)
    return Event.model_construct(
        event_id=event_id,
        type=model.event_type,
        schema_version=model.schema_version,
        key=payload.partition_key(),  # type: ignore[attr-defined]
        version=None,
        occurred_at=datetime.now(UTC),
        causation_id=causation,
        correlation_id=correlation,
        payload=payload,
    )


class RecordBuilder:
    """Builds the records of one chain."""

    def __init__(
        self,
        chain_id: int,
        decoders: Decoders,
        tokens: TokenBook,
        prices: UsdPriceBook | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.decoders = decoders
        self.tokens = tokens
        self.prices = prices
        """USD prices of token symbols; None: transfers carry no USD value (a backfill
        reads the past, whose prices the read models no longer hold)."""

    async def learn(self, tokens: set[str], natives: bool) -> None:
        """Learn what building the records of `tokens`' transfers (and of native
        transfers, when `natives`) needs: the tokens' decimals and symbols, their prices."""
        await self.tokens.learn(tokens)
        if self.prices is None:
            return
        symbols = {self.tokens.get(token).symbol for token in tokens}
        if natives:
            symbols.add(native_symbol(self.chain_id))
        await self.prices.refresh({symbol for symbol in symbols if symbol is not None})

    def of_log(self, log: Log, block_time: int | None = None) -> ChainRecord:
        """A log's record; call `tokens.learn` for the logs' addresses first."""
        timestamp = log.block_timestamp if block_time is None else block_time
        common: dict[str, Any] = {
            "chain_id": self.chain_id,
            "block_number": log.block_number,
            "block_hash": log.block_hash,
            "block_time": None if timestamp is None else datetime.fromtimestamp(timestamp, UTC),
            "tx_hash": log.tx_hash,
            "log_index": log.log_index,
            "address": log.address,
        }
        topics = log.topics
        if (
            len(topics) == _ERC20_TOPICS
            and topics[0] == TRANSFER_TOPIC
            and len(log.data) == _ERC20_DATA_LENGTH
        ):
            sender, recipient = address_of_topic(topics[1]), address_of_topic(topics[2])
            value = int(log.data, 16)
            names = self.decoders.transfer_names(log.address)
            return ChainRecord(
                **common,
                event="Transfer",
                args={names[0]: sender, names[1]: recipient, names[2]: value},
                transfer=self._token_transfer(log.address, sender, recipient, value),
            )
        decoded = self.decoders.decode(log.address, topics, log.data)
        if decoded is None:
            return ChainRecord(**common, topics=list(topics), data=log.data)
        return ChainRecord(
            **common, event=decoded.name, args={k: json_safe(v) for k, v in decoded.args.items()}
        )

    def of_native(self, transaction: Transaction, block: Block) -> ChainRecord:
        """A transaction's own value, moved from its sender to its recipient."""
        assert transaction.recipient is not None, "a contract creation moves no value to anyone"
        symbol = native_symbol(self.chain_id)
        amount = transaction.value / 10**NATIVE_DECIMALS
        return ChainRecord(
            chain_id=self.chain_id,
            block_number=block.number,
            block_hash=block.hash,
            block_time=block.time,
            tx_hash=transaction.hash,
            log_index=None,
            address=None,
            transfer=ValueTransfer(
                token=None,
                symbol=symbol,
                sender=transaction.sender,
                recipient=transaction.recipient,
                raw_amount=str(transaction.value),
                decimals=NATIVE_DECIMALS,
                amount=amount,
                **self._usd(symbol, amount),
            ),
        )

    def _token_transfer(self, token: str, sender: str, recipient: str, value: int) -> ValueTransfer:
        info = self.tokens.get(token)
        amount = None if info.decimals is None else value / 10**info.decimals
        return ValueTransfer(
            token=token,
            symbol=info.symbol,
            sender=sender,
            recipient=recipient,
            raw_amount=str(value),
            decimals=info.decimals,
            amount=amount,
            **self._usd(info.symbol, amount),
        )

    def _usd(self, symbol: str | None, amount: float | None) -> dict[str, float]:
        """`usd_price` and `usd_value`, where a price of `symbol` is known."""
        price = None if self.prices is None else self.prices.get(symbol)
        if price is None:
            return {}
        return {"usd_price": price, **({} if amount is None else {"usd_value": amount * price})}


def json_safe(value: Any) -> Any:
    """A decoded argument as JSON: bytes as 0x hex, tuples as lists, the rest as it is."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
