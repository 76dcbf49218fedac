"""Price ticks: one observed price of one symbol on one venue."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, Field

from events.catalog.common import CatalogPayload, NonNegative, Symbol
from events.registry import event_type


@event_type("price.tick")
class PriceTick(CatalogPayload):
    """A price as a venue reported it. Keyed by symbol: one symbol's ticks stay in order."""

    category: ClassVar[str] = "ticks"
    ingestable: ClassVar[bool] = True

    symbol: Symbol
    venue: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="Exchange or source id")
    price: float = Field(gt=0, allow_inf_nan=False)
    volume: NonNegative = 0.0
    source_time: AwareDatetime = Field(description="When the venue says the price was seen")
    simulated: bool = False
    """True for the market simulator's ticks, so no one mistakes them for a market."""

    def partition_key(self) -> str:
        return self.symbol
