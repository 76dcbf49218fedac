"""The USD price of a token's symbol when a transfer is seen, for its `usd_value`.

Prices come from outside the chain (the price read models, handed in by the composition
root as a `PriceSource`); the watcher asks for the symbols of a block's transfers before
it builds their records, as it asks `TokenBook` for their decimals. A price is kept for
`ttl_s` (prices move, but not between two blocks a second apart), so a block costs no
lookup at all for symbols asked about within that time. A symbol no source prices (a
test token, an unlisted one) is remembered as unpriced for as long: its transfers carry
no USD value. A price source that fails is logged and treated as knowing nothing:
a missing price never holds up the chain.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

DEFAULT_TTL_S = 5.0


class PriceSource(Protocol):
    async def usd_prices(self, symbols: Collection[str]) -> Mapping[str, float]:
        """The latest USD price of each of `symbols` that has one."""
        ...


class UsdPriceBook:
    """Symbols' USD prices, refreshed at most every `ttl_s`."""

    def __init__(self, source: PriceSource, *, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.source = source
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[float | None, float]] = {}
        """Symbol -> (its price, or None: unpriced; when that was learnt)."""

    def get(self, symbol: str | None) -> float | None:
        """The price learnt for `symbol` (call `refresh` first)."""
        if symbol is None:
            return None
        held = self._known.get(symbol)
        return None if held is None else held[0]

    async def refresh(self, symbols: Collection[str]) -> None:
        """Ask the source about every symbol not learnt within `ttl_s`."""
        now = time.monotonic()
        due = sorted(
            symbol
            for symbol in symbols
            if symbol not in self._known or now - self._known[symbol][1] >= self.ttl_s
        )
        if not due:
            return
        try:
            prices = await self.source.usd_prices(due)
        except Exception as error:
            log.warning("no USD prices for chain transfers", error=str(error), symbols=due)
            prices = {}
        for symbol in due:
            self._known[symbol] = (prices.get(symbol), now)
