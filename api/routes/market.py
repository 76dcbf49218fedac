"""Market data: the latest price of each symbol on each venue, and one-minute candles.

Every venue is a market of its own: a price posted by hand (venue ``manual``) is listed
beside the simulator's or an exchange's, never in their place. ``venue=`` narrows any
read to one venue; without it, lists hold every venue, and one symbol's price is its
latest of any venue (the answer names the venue).

In a path a symbol is written ``BTC-USDT`` (a ``/`` would need encoding that proxies
and clients treat inconsistently); in a query string ``BTC/USDT`` and ``BTC-USDT`` are
both accepted. Answers always spell it ``BTC/USDT``, as events do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from api.consistency import READ_AFTER_HEADERS, AfterWrites, read_after
from api.deps import Context, UserKey
from api.pagination import DEFAULT_LIMIT, Page, page
from api.reading import (
    READ_REFUSALS,
    Cursor,
    Limit,
    Symbol,
    TimeWindow,
    canonical_symbol,
    problem_responses,
    time_window,
)
from projections.model import Document
from projections.readmodels.candles import Candles
from projections.readmodels.prices import Prices, latest

router = APIRouter(tags=["market"])

MAX_SYMBOLS = 100

PricesAfter = Annotated[AfterWrites, Depends(read_after(Prices.name))]
CandlesAfter = Annotated[AfterWrites, Depends(read_after(Candles.name))]
READ_OK: dict[int | str, dict[str, Any]] = {200: {"headers": READ_AFTER_HEADERS}}
Venue = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9_-]{1,32}$",
        description="Only this venue (simulator, binance, manual, ...). Default: every venue.",
    ),
]


class PricePublic(BaseModel):
    symbol: str = Field(description="BASE/QUOTE, e.g. BTC/USDT")
    price: float
    venue: str
    volume: float
    source_time: datetime = Field(description="When the venue says the price was seen.")
    simulated: bool = Field(description="True for the market simulator's prices.")
    updated_at: datetime = Field(description="When the tick was appended to its stream.")
    position: str = Field(description="`<stream>@<position>` of the tick.")


class CandlePublic(BaseModel):
    symbol: str
    venue: str
    minute: datetime = Field(description="Start of the minute (UTC), by the venues' time.")
    open: float = Field(description="The minute's first tick, in stream order.")
    high: float
    low: float
    close: float = Field(description="The minute's last tick, in stream order.")
    volume: float = Field(description="Sum of the ticks' volumes.")
    ticks: int


def _price(document: Document) -> PricePublic:
    return PricePublic.model_validate(
        {**document, "position": f"{document['stream']}@{document['position']}"}
    )


@router.get(
    "/prices",
    response_model=Page[PricePublic],
    summary="The latest price of every symbol on every venue, by symbol and venue",
    responses={**READ_OK, **problem_responses(*READ_REFUSALS)},
)
async def list_prices(
    *,
    principal: UserKey,
    context: Context,
    after: PricesAfter,
    symbols: Annotated[
        list[Symbol] | None,
        Query(max_length=MAX_SYMBOLS, description="Only these symbols (repeatable)."),
    ] = None,
    venue: Venue = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[PricePublic]:
    await after.wait()
    query: dict[str, Any] = {"symbol": {"$in": sorted(set(symbols))}} if symbols else {}
    if venue is not None:
        query["venue"] = venue
    collection = await context.read_models.collection(Prices.name)
    documents, next_cursor = await page(
        collection, query, sort_field="symbol", direction="asc", limit=limit, cursor=cursor
    )
    return Page[PricePublic](items=[_price(d) for d in documents], next_cursor=next_cursor)


@router.get(
    "/prices/{symbol}",
    response_model=PricePublic,
    summary="The latest price of one symbol, on one venue or the latest of any",
    responses={
        **READ_OK,
        **problem_responses(
            *READ_REFUSALS, 404, s404="No tick of the symbol (on the venue) was recorded (yet)."
        ),
    },
)
async def get_price(
    *,
    principal: UserKey,
    context: Context,
    after: PricesAfter,
    symbol: Annotated[
        str,
        Path(
            pattern=r"^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$",
            description="BASE-QUOTE in capitals, e.g. BTC-USDT for BTC/USDT.",
        ),
    ],
    venue: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9_-]{1,32}$",
            description="This venue's price. Default: the latest price of any venue.",
        ),
    ] = None,
) -> PricePublic:
    await after.wait()
    wanted = canonical_symbol(symbol)
    collection = await context.read_models.collection(Prices.name)
    document = await latest(collection, wanted, venue)
    if document is None:
        where = f" on {venue}" if venue is not None else ""
        raise HTTPException(404, f"no price of {wanted}{where}: no tick of it has been recorded")
    return _price(document)


@router.get(
    "/candles",
    response_model=Page[CandlePublic],
    summary="One-minute candles of a symbol on each venue, oldest first",
    responses={**READ_OK, **problem_responses(*READ_REFUSALS)},
)
async def list_candles(
    *,
    principal: UserKey,
    context: Context,
    after: CandlesAfter,
    symbol: Annotated[Symbol, Query(description="BASE/QUOTE (or BASE-QUOTE), e.g. BTC/USDT.")],
    window: Annotated[TimeWindow, Depends(time_window)],
    venue: Venue = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[CandlePublic]:
    await after.wait()
    query: dict[str, Any] = {"symbol": symbol}
    if venue is not None:
        query["venue"] = venue
    minutes = window.condition()
    if minutes is not None:
        query["minute"] = minutes
    collection = await context.read_models.collection(Candles.name)
    documents, next_cursor = await page(
        collection, query, sort_field="minute", direction="asc", limit=limit, cursor=cursor
    )
    return Page[CandlePublic](
        items=[CandlePublic.model_validate(d) for d in documents], next_cursor=next_cursor
    )
