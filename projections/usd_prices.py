"""Tokens' USD prices from the prices read model: the chain watcher's `PriceSource`.

A token's symbol ``ETH`` is priced by the latest tick of any venue of ``ETH/USD``,
``ETH/USDT`` or ``ETH/USDC`` (in that order of preference: a dollar quote, then the
two largest dollar stablecoins, taken at par); a dollar stablecoin itself is worth 1.
A symbol with none of these pairs has no price: its transfers carry no USD value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pymongo import DESCENDING

from projections.model import POSITION
from projections.reader import ReadModels
from projections.readmodels.prices import Prices

DOLLAR_QUOTES = ("USD", "USDT", "USDC")
STABLECOINS = frozenset({"USD", "USDT", "USDC", "DAI"})


class ReadModelPrices:
    """USD prices read from the `venue_prices` read model."""

    def __init__(self, read_models: ReadModels) -> None:
        self.read_models = read_models

    async def usd_prices(self, symbols: Collection[str]) -> Mapping[str, float]:
        found = {symbol: 1.0 for symbol in symbols if symbol.upper() in STABLECOINS}
        wanted = {
            f"{symbol.upper()}/{quote}": symbol
            for symbol in symbols
            if symbol not in found
            for quote in DOLLAR_QUOTES
        }
        if not wanted:
            return found
        collection = await self.read_models.collection(Prices.name)
        latest: dict[str, float] = {}
        cursor = collection.find(
            {"symbol": {"$in": sorted(wanted)}}, {"symbol": 1, "price": 1}
        ).sort(POSITION, DESCENDING)
        async for document in cursor:
            latest.setdefault(document["symbol"], float(document["price"]))
        for symbol in symbols:
            for quote in DOLLAR_QUOTES:
                price = latest.get(f"{symbol.upper()}/{quote}")
                if price is not None and symbol not in found:
                    found[symbol] = price
        return found
