"""The market tools: prices, read from their read model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.context import AgentContext
from agent.tools import agent_tool
from events.catalog import Symbol
from projections.readmodels.prices import Prices, latest


class SymbolArgs(BaseModel):
    symbol: Symbol = Field(description="BASE/QUOTE in capitals, e.g. ETH/USDT")
    venue: str | None = Field(
        default=None,
        max_length=40,
        description="Only this venue's price (lower case, e.g. binance); else the latest of any",
    )


class NoPriceError(LookupError):
    """No running source reports the symbol (on the venue); `details` name the symbols
    that have a price, for the answer to offer instead."""

    def __init__(self, symbol: str, venue: str | None, known: list[str]) -> None:
        where = f" on {venue}" if venue else ""
        tracked = f"; prices are known for {', '.join(known)}" if known else ""
        super().__init__(f"no price for {symbol}{where} yet{tracked}")
        self.details = {"symbol": symbol, "venue": venue, "known": known}


@agent_tool("market", description="The latest price of a symbol, and the venue it is from.")
async def get_price(context: AgentContext, arguments: SymbolArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Prices.name)
    venue = arguments.venue.lower() if arguments.venue else None
    found = await latest(collection, arguments.symbol, venue)
    if found is None:
        known = sorted(await collection.distinct("symbol"))
        raise NoPriceError(arguments.symbol, venue, [str(symbol) for symbol in known])
    return {
        "symbol": found["symbol"],
        "price": found["price"],
        "venue": found["venue"],
        "simulated": found.get("simulated", False),
        "at": found["source_time"],
    }
