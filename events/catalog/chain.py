"""Chain events: what the chain watcher sees on an EVM chain, and how sure it is of it.

A thing seen on chain (a log of a watched contract, an ERC-20 transfer to or from a
watched wallet, a native transfer of one) is a `ChainRecord`. The watcher announces each
record three ways, as the chain settles:

- ``chain.observed`` when it first reads the record's block;
- ``chain.confirmed`` once that block is N blocks deep (N per chain, a setting);
- ``chain.retracted`` if a reorganisation removes the block (even after confirmation,
  should a reorg ever be deeper than N).

Confirmed and retracted events name the observation they settle (`observation_id`, also
their causation and correlation id), so every retraction pairs with its observation.
Records are keyed by chain and address (the emitting contract, or a native transfer's
sender), so a record's three events share a partition and arrive in order.

``chain.log`` is older: a log announced from outside through the ingest API, with a
`removed` flag and no confirmations. The watcher never writes it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from events.catalog.common import CatalogPayload, Count
from events.registry import event_type

Hex32 = Field(pattern=r"^0x[0-9a-fA-F]{64}$")

ChainId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-f]{40}$")]
"""An address in lowercase: what the watcher writes (checksumming costs ~45 µs each)."""
Hash32 = Annotated[str, Field(pattern=r"^0x[0-9a-f]{64}$")]
"""A block or transaction hash, or a topic, in lowercase."""


@event_type("chain.log")
class ChainLogObserved(CatalogPayload):
    """One log of one transaction, decoded where its contract's ABI is known."""

    category: ClassVar[str] = "chain"
    ingestable: ClassVar[bool] = True

    chain_id: int = Field(ge=1, le=2**63 - 1)
    block_number: Count
    block_hash: str = Hex32
    tx_hash: str = Hex32
    log_index: Count
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    event: str = Field(default="", max_length=128, description="Decoded event name, if known")
    args: dict[str, Any] = Field(default_factory=dict)
    removed: bool = False
    """True when a reorg removed the log this event announced."""

    def partition_key(self) -> str:
        return self.address.lower()


class ValueTransfer(BaseModel):
    """Value that moved: an ERC-20 `Transfer`, or a transaction's native value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: Address | None
    """The ERC-20 contract; None for the chain's native coin."""
    symbol: str | None = Field(default=None, max_length=32)
    """The token's `symbol()`, read once per token; None when it has none we can read."""
    sender: Address
    recipient: Address
    raw_amount: str = Field(pattern=r"^[0-9]{1,78}$")
    """The amount in the token's smallest unit, exactly (a uint256 fits no JSON number)."""
    decimals: int | None = Field(default=None, ge=0, le=255)
    """The token's `decimals()`, read once per token (18 for the native coin)."""
    amount: float | None = None
    """`raw_amount` scaled by `decimals` (for thresholds); None when decimals are unknown."""
    usd_price: float | None = Field(default=None, ge=0)
    """The price in USD of one `symbol` when the transfer was seen (from the price read
    models); None when none was known."""
    usd_value: float | None = Field(default=None, ge=0)
    """`amount` times `usd_price`; None when either is unknown."""


class ChainRecord(BaseModel):
    """One thing seen on chain, in one block.

    A log has a `log_index` and the `address` that emitted it; a native transfer has
    neither (None) and a `transfer`. A log is decoded by its contract's ABI where one is
    known (ours, or one a user registered), an ERC-20 or ERC-721 transfer by the standard
    ABIs; anything else keeps `event` empty and its raw `topics` and `data`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain_id: ChainId
    block_number: Count
    block_hash: Hash32
    block_time: AwareDatetime | None = None
    """The block's timestamp; None when the node's logs do not carry it (a range read)."""
    tx_hash: Hash32
    log_index: Count | None
    address: Address | None
    event: str = Field(default="", max_length=128)
    args: dict[str, JsonValue] = Field(default_factory=dict)
    """Decoded arguments: addresses in lowercase, bytes as 0x hex, integers exact."""
    topics: list[Hash32] = Field(default_factory=list, max_length=4)
    data: str = Field(default="", pattern=r"^(0x[0-9a-f]*)?$")
    transfer: ValueTransfer | None = None

    @property
    def native(self) -> bool:
        """Whether this is a transaction's own value transfer rather than a log."""
        return self.log_index is None

    def partition_key(self) -> str:
        """``<chain id>:<emitting contract, or the native transfer's sender>``."""
        subject = self.address
        if subject is None:
            subject = self.transfer.sender if self.transfer is not None else self.tx_hash
        return f"{self.chain_id}:{subject}"


class _Stage(CatalogPayload):
    category: ClassVar[str] = "chain"

    record: ChainRecord

    def partition_key(self) -> str:
        return self.record.partition_key()


@event_type("chain.observed")
class ChainEventObserved(_Stage):
    """The watcher read `record` in a block on the chain's current head."""


@event_type("chain.confirmed")
class ChainEventConfirmed(_Stage):
    """The observation's block is `confirmations` blocks deep: alerts fire on this."""

    observation_id: UUID
    confirmations: int = Field(ge=1)


@event_type("chain.retracted")
class ChainEventRetracted(_Stage):
    """A reorganisation removed the observation's block from the chain.

    `ancestor` is the highest block the old and the new chain share; the new chain's
    blocks above it are read again, so a transaction moved to another block is observed
    again there (a new observation: its block hash differs).
    """

    observation_id: UUID
    ancestor: int = Field(ge=-1)
    after_confirmation: bool = False
    """The reorg was deeper than the confirmations: this record had been confirmed."""
