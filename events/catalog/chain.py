"""Chain events: a contract log observed on an EVM chain."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from events.catalog.common import CatalogPayload, Count
from events.registry import event_type

Hex32 = Field(pattern=r"^0x[0-9a-fA-F]{64}$")


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
