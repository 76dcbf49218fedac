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


@agent_tool("market", description="The latest price of a symbol, and the venue it is from.")
async def get_price(context: AgentContext, arguments: SymbolArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Prices.name)
    venue = arguments.venue.lower() if arguments.venue else None
    found = await latest(collection, arguments.symbol, venue)
    if found is None:
        where = f" on {venue}" if venue else ""
        raise LookupError(f"no price for {arguments.symbol}{where} yet")
    return {
        "symbol": found["symbol"],
        "price": found["price"],
        "venue": found["venue"],
        "simulated": found.get("simulated", False),
        "at": found["source_time"],
    }
