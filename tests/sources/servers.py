"""Local stand-ins for the venues we cannot reach: real HTTP (and WebSocket) servers.

Each speaks the venue's protocol closely enough for its real client (ccxt, httpx) to
work unchanged against it: the same paths, parameters, payload shapes and error codes.
They run on their own event loop in a thread, so async tests and CLI tests (which block
on a child process) can both use them. Their behaviour is scripted per test: answers
to fail, prices to move, requests to record.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

HANG = 0
"""In a failure script: answer nothing until the client gives up."""


@contextmanager
def serving(app: web.Application) -> Iterator[str]:
    """Serve `app` on a free 127.0.0.1 port in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    ready = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10), "the local server did not start"
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@dataclass
class FakeBinance:
    """Binance spot's public market data: exchangeInfo, ticker/24hr, and ticker streams.

    Each ticker request moves every price a little and its close time on by
    `step_ms`, as a live market would; `rewind()` returns to the start, as if the
    exchange were asked again about the same moments.
    """

    listed: tuple[str, ...] = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    start_ms: int = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    step_ms: int = 1000
    failures: list[int] = field(default_factory=list)
    """HTTP statuses (or HANG) to answer the next ticker requests with, in order."""
    ticker_requests: list[list[str]] = field(default_factory=list)
    """The `symbols` of each ticker request that was answered."""
    stream_updates: int = 3
    """Updates per subscribed symbol a WebSocket client receives."""
    requests: int = 0

    def rewind(self) -> None:
        self.requests = 0
        self.ticker_requests.clear()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/v3/ticker/24hr", self._tickers)
        app.router.add_get("/ws/{number}", self._stream)
        return app

    @staticmethod
    def market_id(symbol: str) -> str:
        return symbol.replace("/", "")

    def _market(self, symbol: str) -> dict[str, Any]:
        base, quote = symbol.split("/")
        return {
            "symbol": base + quote,
            "status": "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.01",
                    "maxPrice": "1000000.00",
                    "tickSize": "0.01",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": "0.00001",
                    "maxQty": "9000.00",
                    "stepSize": "0.00001",
                },
            ],
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
        }

    async def _exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.start_ms,
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [self._market(symbol) for symbol in self.listed],
            }
        )

    def price(self, symbol: str, step: int) -> float:
        base = {"BTC": 100_000.0, "ETH": 3_500.0, "SOL": 180.0}.get(
            symbol.split("/", maxsplit=1)[0], 10.0
        )
        return round(base * (1 + 0.001 * step), 2)

    def _ticker(self, symbol: str, step: int) -> dict[str, Any]:
        close = self.start_ms + step * self.step_ms
        price = self.price(symbol, step)
        return {
            "symbol": self.market_id(symbol),
            "priceChange": "0.00",
            "priceChangePercent": "0.000",
            "weightedAvgPrice": str(price),
            "prevClosePrice": str(price),
            "lastPrice": str(price),
            "lastQty": "0.01",
            "bidPrice": str(price - 0.01),
            "bidQty": "1.0",
            "askPrice": str(price + 0.01),
            "askQty": "1.0",
            "openPrice": str(price),
            "highPrice": str(price),
            "lowPrice": str(price),
            "volume": str(1000 + 10 * step),
            "quoteVolume": str(price * (1000 + 10 * step)),
            "openTime": close - 86_400_000,
            "closeTime": close,
            "firstId": 1,
            "lastId": 1000 + step,
            "count": 1000 + step,
        }

    async def _tickers(self, request: web.Request) -> web.Response:
        if self.failures:
            failure = self.failures.pop(0)
            if failure == HANG:
                await asyncio.sleep(30)
            return web.json_response({"code": -1001, "msg": "Internal error."}, status=failure)
        ids = json.loads(request.query.get("symbols", "[]"))
        by_id = {self.market_id(symbol): symbol for symbol in self.listed}
        if any(market_id not in by_id for market_id in ids):
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        self.ticker_requests.append([by_id[market_id] for market_id in ids])
        step = self.requests
        self.requests += 1
        return web.json_response([self._ticker(by_id[market_id], step) for market_id in ids])

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        by_stream = {self.market_id(s).lower() + "@miniTicker": s for s in self.listed}
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            command = json.loads(message.data)
            await socket.send_json({"result": None, "id": command["id"]})
            if command.get("method") != "SUBSCRIBE":
                continue
            for step in range(self.stream_updates):
                for name in command["params"]:
                    symbol = by_stream[name]
                    await socket.send_json(self._mini_ticker(symbol, step))
        return socket

    def _mini_ticker(self, symbol: str, step: int) -> dict[str, Any]:
        price = self.price(symbol, step)
        return {
            "e": "24hrMiniTicker",
            "E": self.start_ms + step * self.step_ms,
            "s": self.market_id(symbol),
            "c": str(price),
            "o": str(price),
            "h": str(price),
            "l": str(price),
            "v": str(1000 + 10 * step),
            "q": str(price * (1000 + 10 * step)),
        }


@dataclass
class FakeCoinGecko:
    """CoinGecko's ``/api/v3/simple/price``, with its answers for unknown ids and limits."""

    known: dict[str, float] = field(
        default_factory=lambda: {"bitcoin": 100_000.0, "ethereum": 3_500.0, "solana": 180.0}
    )
    start_s: int = 1_767_225_600
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """(status, headers) to answer the next requests with, in order."""
    requests: int = 0
    answered: list[dict[str, str]] = field(default_factory=list)
    """Query and API-key headers of each request answered with prices."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v3/simple/price", self._simple_price)
        return app

    async def _simple_price(self, request: web.Request) -> web.Response:
        if self.failures:
            status, headers = self.failures.pop(0)
            error = {"status": {"error_code": status, "error_message": "You've exceeded the Rate"}}
            return web.json_response(error, status=status, headers=headers)
        ids = request.query["ids"].split(",")
        currencies = request.query["vs_currencies"].split(",")
        keys = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-cg-")}
        self.answered.append({**request.query, **keys})
        step = self.requests
        self.requests += 1
        body: dict[str, Any] = {}
        for coin in ids:
            if coin not in self.known:
                continue
            entry: dict[str, Any] = {}
            for currency in currencies:
                price = round(self.known[coin] * (1 + 0.001 * step), 2)
                entry[currency] = price
                entry[f"{currency}_24h_vol"] = 1e9 + 1e6 * step
            entry["last_updated_at"] = self.start_s + 60 * step
            body[coin] = entry
        return web.json_response(body)
