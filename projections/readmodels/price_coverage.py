"""Which price sources are running for each symbol on each venue.

A source's run records `source.started` for each symbol it reports and
`source.stopped` when it ends; this folds them into one document per symbol and venue
(``BTC/USDT|simulator``) listing the runs that cover it now. It is what lets a rule on a
symbol nothing reports say so (`projections.rule_health`) instead of waiting in silence.
A run killed outright never records its stop: it stays listed, and its silence shows
as the market's prices growing old (`venue_prices`' ``updated_at``).
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import ASCENDING, IndexModel

from events.catalog import SourceStarted, SourceStopped
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.prices import market_key
from projections.registry import read_model


def _coverage_of(recorded: RecordedEvent) -> SourceStarted | SourceStopped:
    payload = recorded.event.payload
    if not isinstance(payload, SourceStarted | SourceStopped):
        raise TypeError(f"expected source.started or source.stopped, got {recorded.event.type}")
    return payload


@read_model()
class PriceCoverage(Projection):
    """One document per symbol and venue: ``runs`` by run id, each with its source."""

    name: ClassVar[str] = "price_coverage"
    categories: ClassVar[tuple[str, ...]] = ("ticks",)
    types: ClassVar[frozenset[str] | None] = frozenset(
        {SourceStarted.event_type, SourceStopped.event_type}
    )
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        IndexModel([("symbol", ASCENDING), ("venue", ASCENDING)]),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        coverage = _coverage_of(recorded)
        return (market_key(coverage.symbol, coverage.venue),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        coverage = _coverage_of(recorded)
        if document is None:
            document = {"symbol": coverage.symbol, "venue": coverage.venue, "runs": {}}
        run = str(coverage.run_id)
        if isinstance(coverage, SourceStarted):
            document["runs"][run] = {
                "source": coverage.source,
                "simulated": coverage.simulated,
                "since": recorded.position.time,
            }
        else:
            document["runs"].pop(run, None)
        return document
