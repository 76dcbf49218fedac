"""The latest price of each symbol: what "price of ETH" answers.

Latest means last in stream order, which is the order the ticks of one symbol were
appended (a symbol's ticks share a partition). A batch of a thousand ticks of one
symbol folds in memory and costs one write.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import IndexModel

from events.catalog import PriceTick
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.indexes import paging_index
from projections.registry import read_model


def tick_of(recorded: RecordedEvent) -> PriceTick:
    payload = recorded.event.payload
    if not isinstance(payload, PriceTick):
        raise TypeError(f"expected a price.tick, got {recorded.event.type}")
    return payload


@read_model()
class Prices(Projection):
    name: ClassVar[str] = "prices"
    categories: ClassVar[tuple[str, ...]] = ("ticks",)
    types: ClassVar[frozenset[str] | None] = frozenset({PriceTick.event_type})
    indexes: ClassVar[tuple[IndexModel, ...]] = (paging_index("symbol"),)

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        return (tick_of(recorded).symbol,)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        tick = tick_of(recorded)
        return {
            "symbol": tick.symbol,
            "price": tick.price,
            "venue": tick.venue,
            "volume": tick.volume,
            "source_time": tick.source_time,
            "simulated": tick.simulated,
            "event_id": str(recorded.event.event_id),
            "stream": recorded.stream,
            "position": str(recorded.position),
            "updated_at": recorded.position.time,
        }
