"""The contract every price source keeps, whatever it reads from.

A source is opened (where it checks what it was given: markets, files, keys), then
yields batches of `PriceTick` payloads until it runs out (a replay) or is cancelled (a
live feed), then closed. It never appends anything itself: the runner turns ticks into
events with stable ids and appends them, so every source gets idempotence, staleness
and shutdown the same way.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from events.catalog import PriceTick


class PriceSource(Protocol):
    """A producer of price ticks. See `tests/sources/source_contract.py`."""

    @property
    def name(self) -> str:
        """The registry name, e.g. ``simulator``; also the `source` of stale events."""

    @property
    def venue(self) -> str:
        """The venue of its ticks (a replay file may name others per row)."""

    @property
    def simulated(self) -> bool:
        """Whether its prices are made up: shown wherever its ticks are."""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols it reports, once opened (empty when not known in advance)."""

    @property
    def total(self) -> int | None:
        """How many ticks it will yield in all, once opened; None for a live feed."""

    async def open(self) -> None:
        """Check the configuration against reality; raise `SourceInputError` if wrong."""

    def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        """Ticks as they come, a batch at a time, in source-time order per symbol.

        A generator, so that whoever stops early can close it and let it clean up.
        """

    async def aclose(self) -> None:
        """Release connections; safe to call more than once and after a failed open."""
