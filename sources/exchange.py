"""Prices from any exchange ccxt supports: streamed where it can, polled where not.

With streaming on and an exchange whose ccxt.pro class has ``watchTickers``, tickers
arrive over its WebSocket; otherwise ``fetchTickers`` (or ``fetchTicker`` per symbol)
is polled over REST. Requests go through ccxt's rate limiter (``enableRateLimit``).

Failures are sorted by what fixes them:

- ccxt's `NetworkError` family (timeouts, 5xx, maintenance, rate limits, dropped
  sockets) is retried with growing, jittered delays, forever: the venue comes back.
- A symbol the exchange does not list is reported once, with the exchange's name, and
  dropped; the others go on. A symbol delisted while running (`BadSymbol`) is found by
  reloading the markets, and reported and dropped the same way.
- Anything else the exchange refuses (credentials, a ban) stops the source with a
  `VenueError`: retrying would only hammer it.

Volume per tick is estimated from the change of the exchange's rolling 24 h base
volume since the previous tick (never negative, zero for the first tick).
"""

from __future__ import annotations

import difflib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import structlog

from events.backoff import Backoff
from events.catalog import PriceTick
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.errors import SourceInputError, VenueError
from sources.tick import is_symbol

log = structlog.get_logger(__name__)

T = TypeVar("T")

DEFAULT_EXCHANGE = "binance"
DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


def check_exchange_id(exchange_id: str) -> str:
    """`exchange_id` if ccxt knows it, else a clear error with the nearest names."""
    if exchange_id in ccxt.exchanges:
        return exchange_id
    close = difflib.get_close_matches(exchange_id, ccxt.exchanges, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise SourceInputError(f"ccxt has no exchange {exchange_id!r}{hint}")


class ExchangeSource:
    """Tickers of a few symbols on one exchange, through ccxt."""

    name = "exchange"
    simulated = False
    total = None

    def __init__(
        self,
        exchange_id: str = DEFAULT_EXCHANGE,
        symbols: tuple[str, ...] = DEFAULT_SYMBOLS,
        *,
        streaming: bool = True,
        poll_interval_s: float = 5.0,
        timeout_s: float = 10.0,
        api_urls: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        backoff: Backoff | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = real_sleep,
    ) -> None:
        self.venue = check_exchange_id(exchange_id)
        if not symbols:
            raise SourceInputError("name at least one symbol to follow on the exchange")
        bad = [symbol for symbol in symbols if not is_symbol(symbol)]
        if bad:
            raise SourceInputError(
                f"invalid symbol {bad[0]!r}: write a spot symbol BASE/QUOTE in capitals,"
                " e.g. BTC/USDT"
            )
        if poll_interval_s <= 0 or timeout_s <= 0:
            raise SourceInputError("the poll interval and the timeout must be positive")
        self.wanted = tuple(dict.fromkeys(symbols))
        self.streaming = streaming
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.api_urls = dict(api_urls or {})
        self.options = dict(options or {})
        self.backoff = backoff or Backoff(1.0, 60.0, "half")
        self.clock = clock
        self.sleep = sleep
        self.unlisted: list[str] = []
        """Symbols the exchange does not list, each reported once and dropped."""
        self._symbols: tuple[str, ...] = self.wanted
        self._exchange: Any = None
        self._last_time: dict[str, datetime] = {}
        self._last_volume: dict[str, float] = {}

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def streams(self) -> bool:
        """Whether tickers come over the exchange's WebSocket (known once opened)."""
        return bool(
            self.streaming and self._exchange is not None and self._exchange.has.get("watchTickers")
        )

    async def open(self) -> None:
        """Load the exchange's markets (retrying) and drop the symbols it does not list."""
        module = ccxt_pro if self.streaming and hasattr(ccxt_pro, self.venue) else ccxt_async
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": int(self.timeout_s * 1000),
            "options": self.options,
        }
        if self.api_urls:
            config["urls"] = {"api": self.api_urls}
        self._exchange = getattr(module, self.venue)(config)
        markets = await self._retrying(self._exchange.load_markets, "load markets")
        self._drop_unlisted(markets)

    async def aclose(self) -> None:
        if self._exchange is not None:
            exchange, self._exchange = self._exchange, None
            await exchange.close()

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        log.info(
            "exchange source started",
            exchange=self.venue,
            mode="websocket" if self.streams else "rest polling",
            symbols=list(self._symbols),
        )
        while True:
            tickers = await self._retrying(
                self._watch if self.streams else self._fetch, "read tickers"
            )
            yield self._ticks(tickers)
            if not self.streams:
                await self.sleep(self.poll_interval_s)

    async def _watch(self) -> list[dict[str, Any]]:
        updated = await self._exchange.watch_tickers(list(self._symbols))
        cached = self._exchange.tickers or {}
        return [*updated.values(), *(cached[s] for s in self._symbols if s in cached)]

    async def _fetch(self) -> list[dict[str, Any]]:
        exchange = self._exchange
        if exchange.has.get("fetchTickers"):
            tickers = await exchange.fetch_tickers(list(self._symbols))
            return list(tickers.values())
        return [await exchange.fetch_ticker(symbol) for symbol in self._symbols]

    async def _retrying(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """`call()`, retrying network trouble with backoff and unlisted symbols once."""
        while True:
            try:
                result = await call()
            except ccxt.BadSymbol as error:
                await self._after_bad_symbol(error, what)
                continue
            except ccxt.OperationFailed as error:
                delay = self.backoff.next_delay()
                log.warning(
                    "exchange request failed; retrying",
                    exchange=self.venue,
                    request=what,
                    error=f"{type(error).__name__}: {_first_line(error)}",
                    attempt=self.backoff.failures,
                    retry_in_s=round(delay, 2),
                )
                await self.sleep(delay)
                continue
            except ccxt.ExchangeError as error:
                raise VenueError(
                    f"{self.venue} refused to {what}: {type(error).__name__}: {_first_line(error)}"
                ) from error
            self.backoff.reset()
            return result

    async def _after_bad_symbol(self, error: Exception, what: str) -> None:
        """A symbol went away while running: reload the markets and drop what is gone."""
        markets = await self._retrying(
            lambda: self._exchange.load_markets(reload=True), "reload markets"
        )
        before = self._symbols
        self._drop_unlisted(markets)
        if self._symbols == before:
            raise SourceInputError(
                f"{self.venue} refused to {what} for {', '.join(before)}: {_first_line(error)}"
            ) from error

    def _drop_unlisted(self, markets: Mapping[str, Any]) -> None:
        listed = tuple(symbol for symbol in self._symbols if symbol in markets)
        for symbol in self._symbols:
            if symbol not in listed:
                self.unlisted.append(symbol)
                log.error(
                    "symbol not listed on the exchange; dropped",
                    exchange=self.venue,
                    symbol=symbol,
                )
        if not listed:
            raise SourceInputError(
                f"{self.venue} lists none of {', '.join(self.wanted)}"
                f" (it lists {len(markets)} markets; check the spelling, e.g. BTC/USDT)"
            )
        self._symbols = listed

    def _ticks(self, tickers: list[dict[str, Any]]) -> list[PriceTick]:
        """New ticks among `tickers`: our symbols, with a price, newer than the last seen."""
        ticks = []
        for ticker in tickers:
            symbol = ticker.get("symbol")
            price = ticker.get("last") or ticker.get("close")
            if symbol not in self._symbols or not price or price <= 0:
                continue
            stamp = ticker.get("timestamp")
            at = datetime.fromtimestamp(stamp / 1000, UTC) if stamp else self.clock()
            last = self._last_time.get(symbol)
            if last is not None and at <= last:
                continue
            self._last_time[symbol] = at
            ticks.append(
                PriceTick(
                    symbol=symbol,
                    venue=self.venue,
                    price=float(price),
                    volume=self._volume_since_last(symbol, ticker.get("baseVolume")),
                    source_time=at,
                )
            )
        return ticks

    def _volume_since_last(self, symbol: str, rolling: float | None) -> float:
        if rolling is None:
            return 0.0
        previous = self._last_volume.get(symbol)
        self._last_volume[symbol] = float(rolling)
        return 0.0 if previous is None else max(0.0, float(rolling) - previous)


def _first_line(error: Exception) -> str:
    text = str(error)
    return text.splitlines()[0][:300] if text else type(error).__name__
