"""Prices from CoinGecko's simple-price endpoint, polled over HTTP within its limits.

One request per poll asks for every configured coin (``ids``) in every quote currency
the symbols name (``vs_currencies``). The public API allows a few calls a minute, a Demo
key about 30 and a Pro key more; the poll interval is the operator's to set, and a
``429`` is honoured: its ``Retry-After`` (or a growing delay without one) is waited out.
Timeouts, connection errors and 5xx answers are retried with growing, jittered delays.
A coin id CoinGecko does not know is answered by silence: it is reported once and
dropped (a coin priced before and missing from one answer is only skipped). A refused
key (401/403) stops the source with a clear message.

Volume per tick is the change of the 24 h traded value since the previous poll, turned
into base units at the current price (never negative, zero for the first poll).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from events.backoff import Backoff
from events.catalog import PriceTick
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.errors import RateLimitedError, SourceInputError, VenueError
from sources.tick import is_symbol

log = structlog.get_logger(__name__)

PUBLIC_API = "https://api.coingecko.com/api/v3"
PRO_API = "https://pro-api.coingecko.com/api/v3"
DEFAULT_COINS = {"bitcoin": "BTC/USD", "ethereum": "ETH/USD", "solana": "SOL/USD"}
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500
HTTP_CLIENT_ERROR = 400
REFUSED_KEY = (401, 403)


class CoinGeckoSource:
    """Aggregated prices of a few coins, from CoinGecko."""

    name = "coingecko"
    venue = "coingecko"
    simulated = False
    total = None

    def __init__(
        self,
        coins: Mapping[str, str] | None = None,
        *,
        base_url: str = PUBLIC_API,
        api_key: str | None = None,
        poll_interval_s: float = 60.0,
        timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = real_sleep,
    ) -> None:
        self.coins = dict(coins if coins is not None else DEFAULT_COINS)
        if not self.coins:
            raise SourceInputError("name at least one CoinGecko coin id and its symbol")
        for coin, symbol in self.coins.items():
            if not is_symbol(symbol):
                raise SourceInputError(
                    f"invalid symbol {symbol!r} for CoinGecko coin {coin!r}: write BASE/QUOTE"
                    " in capitals, where QUOTE is a vs currency, e.g. BTC/USD"
                )
        if poll_interval_s <= 0 or timeout_s <= 0:
            raise SourceInputError("the poll interval and the timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.backoff = backoff or Backoff(1.0, 60.0, "half")
        self.clock = clock
        self.sleep = sleep
        self.unknown: list[str] = []
        """Coin ids CoinGecko did not answer for, each reported once and dropped."""
        self._client: httpx.AsyncClient | None = None
        self._last_time: dict[str, datetime] = {}
        self._last_value: dict[str, float] = {}
        self._answered: set[str] = set()
        """Coins priced at least once: missing from one answer, they are skipped, not dropped."""

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.coins.values())

    async def open(self) -> None:
        headers = {"accept": "application/json"}
        if self.api_key:
            headers[self._key_header()] = self.api_key
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=self.timeout_s
        )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _key_header(self) -> str:
        """Pro keys go to the Pro host; any other key is a Demo key."""
        pro = httpx.URL(self.base_url).host.startswith("pro-api.")
        return "x-cg-pro-api-key" if pro else "x-cg-demo-api-key"

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        while True:
            prices = await self._prices()
            yield self._ticks(prices)
            await self.sleep(self.poll_interval_s)

    async def _prices(self) -> dict[str, Any]:
        """One successful answer, however many retries it takes."""
        while True:
            try:
                prices = await self._request()
            except RateLimitedError as error:
                delay = error.retry_after_s
            except (httpx.TransportError, _ServerError) as error:
                delay = self.backoff.next_delay()
                log.warning(
                    "coingecko request failed; retrying",
                    error=f"{type(error).__name__}: {error}",
                    attempt=self.backoff.failures,
                    retry_in_s=round(delay, 2),
                )
            else:
                self.backoff.reset()
                return prices
            await self.sleep(delay)

    async def _request(self) -> dict[str, Any]:
        assert self._client is not None, "open() the source first"
        quotes = sorted({symbol.split("/")[1].lower() for symbol in self.coins.values()})
        response = await self._client.get(
            "/simple/price",
            params={
                "ids": ",".join(self.coins),
                "vs_currencies": ",".join(quotes),
                "include_24hr_vol": "true",
                "include_last_updated_at": "true",
                "precision": "full",
            },
        )
        status = response.status_code
        if status == HTTP_TOO_MANY_REQUESTS:
            delay = self._retry_after(response) or self.backoff.next_delay()
            log.warning("coingecko rate limit reached; waiting", retry_in_s=round(delay, 2))
            raise RateLimitedError(self.venue, delay)
        if status >= HTTP_SERVER_ERROR:
            raise _ServerError(f"HTTP {status}")
        if status in REFUSED_KEY:
            raise VenueError(
                f"CoinGecko refused the request (HTTP {status}): check the API key and that"
                " the base URL matches its plan (Pro keys use the Pro API)"
            )
        if status >= HTTP_CLIENT_ERROR:
            detail = response.text[:200]
            raise VenueError(f"CoinGecko refused the request (HTTP {status}): {detail}")
        body = response.json()
        if not isinstance(body, dict):
            raise _ServerError("the answer is not a JSON object")
        return body

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        if not value:
            return None
        if value.strip().isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - self.clock()).total_seconds())

    def _ticks(self, prices: dict[str, Any]) -> list[PriceTick]:
        """New ticks in an answer; coins it has no price for are dropped."""
        ticks = []
        for coin, symbol in list(self.coins.items()):
            entry = prices.get(coin)
            tick = self._tick(symbol, entry) if isinstance(entry, dict) else None
            if tick is None:
                if coin not in self._answered:
                    self._drop(coin, symbol)
                continue
            self._answered.add(coin)
            last = self._last_time.get(symbol)
            if last is None or tick.source_time > last:
                self._last_time[symbol] = tick.source_time
                ticks.append(tick)
        return ticks

    def _tick(self, symbol: str, entry: dict[str, Any]) -> PriceTick | None:
        quote = symbol.split("/")[1].lower()
        price = entry.get(quote)
        if not isinstance(price, int | float) or price <= 0:
            return None
        stamp = entry.get("last_updated_at")
        at = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else self.clock()
        return PriceTick(
            symbol=symbol,
            venue=self.venue,
            price=float(price),
            volume=self._volume_since_last(symbol, entry.get(f"{quote}_24h_vol"), float(price)),
            source_time=at,
        )

    def _drop(self, coin: str, symbol: str) -> None:
        del self.coins[coin]
        self.unknown.append(coin)
        log.error(
            "coingecko has no price for this coin id; dropped",
            coin=coin,
            symbol=symbol,
            hint="ids are CoinGecko's API ids, e.g. bitcoin (see /coins/list)",
        )
        if not self.coins:
            raise SourceInputError(
                f"CoinGecko has prices for none of the coin ids {', '.join(self.unknown)}"
            )

    def _volume_since_last(self, symbol: str, traded: Any, price: float) -> float:
        if not isinstance(traded, int | float):
            return 0.0
        previous = self._last_value.get(symbol)
        self._last_value[symbol] = float(traded)
        return 0.0 if previous is None else max(0.0, float(traded) - previous) / price


class _ServerError(Exception):
    """CoinGecko answered, but not usefully (5xx, or a body that is not an object)."""
