"""Exchange prices through ccxt, against a local server speaking Binance's public API.

ccxt runs unchanged: only the exchange's API URLs point at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from events.backoff import Backoff
from sources.errors import SourceInputError
from sources.exchange import ExchangeSource
from tests.sources.servers import HANG, FakeBinance, serving
from tests.sources.source_contract import SourceContract
from tests.sources.support import FakeClock, take

SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}


@pytest.fixture
def binance() -> Iterator[tuple[FakeBinance, str]]:
    fake = FakeBinance()
    with serving(fake.app()) as url:
        yield fake, url


def rest_source(
    url: str, symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"), **options: Any
) -> tuple[ExchangeSource, FakeClock]:
    clock = FakeClock()
    source = ExchangeSource(
        "binance",
        symbols,
        streaming=False,
        poll_interval_s=2.0,
        api_urls={"public": f"{url}/api/v3"},
        options=SPOT_ONLY,
        backoff=Backoff(first_s=1.0, max_s=8.0, jitter="half"),
        clock=clock,
        sleep=clock.sleep,
        **options,
    )
    return source, clock


class TestExchangePollingContract(SourceContract):
    @pytest.fixture(autouse=True)
    def _server(self, binance: tuple[FakeBinance, str]) -> None:
        self.fake, self.url = binance

    def create_source(self) -> ExchangeSource:
        return rest_source(self.url)[0]

    def rewind(self) -> None:
        self.fake.rewind()


async def test_polled_tickers_become_ticks_at_the_poll_interval(
    binance: tuple[FakeBinance, str],
) -> None:
    fake, url = binance
    source, clock = rest_source(url)
    batches = await take(source, 3)
    assert [[(t.symbol, t.price) for t in batch] for batch in batches] == [
        [("BTC/USDT", 100_000.0), ("ETH/USDT", 3_500.0)],
        [("BTC/USDT", 100_100.0), ("ETH/USDT", 3_503.5)],
        [("BTC/USDT", 100_200.0), ("ETH/USDT", 3_507.0)],
    ]
    first, second = batches[0][0], batches[1][0]
    assert (second.source_time - first.source_time).total_seconds() == 1.0
    assert first.venue == "binance"
    assert not first.simulated
    assert [t.volume for t in (batches[0][0], batches[1][0])] == [0.0, 10.0]
    assert clock.sleeps == [2.0, 2.0]
    assert fake.ticker_requests == [["BTC/USDT", "ETH/USDT"]] * 3


@pytest.mark.parametrize("failure", [503, 502, 429, HANG], ids=["503", "502", "429", "timeout"])
async def test_network_trouble_is_retried_with_backoff_then_goes_on(
    binance: tuple[FakeBinance, str], failure: int
) -> None:
    fake, url = binance
    fake.failures = [failure, failure]
    source, clock = rest_source(url, timeout_s=0.5)
    batches = await take(source, 1)
    assert [t.symbol for t in batches[0]] == ["BTC/USDT", "ETH/USDT"]
    assert fake.failures == []
    assert len(clock.sleeps) == 2, "two failures, two waits"
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0, "the wait grows"
    assert source.backoff.failures == 0, "success resets the backoff"


async def test_an_unlisted_symbol_is_reported_once_and_never_asked_for(
    binance: tuple[FakeBinance, str],
) -> None:
    fake, url = binance
    source, _ = rest_source(url, symbols=("BTC/USDT", "FOO/USDT"))
    batches = await take(source, 3)
    assert source.unlisted == ["FOO/USDT"]
    assert source.symbols == ("BTC/USDT",)
    assert {t.symbol for batch in batches for t in batch} == {"BTC/USDT"}
    assert fake.ticker_requests == [["BTC/USDT"]] * 3


async def test_a_symbol_delisted_while_running_is_dropped_once(
    binance: tuple[FakeBinance, str],
) -> None:
    fake, url = binance
    source, _ = rest_source(url)
    await source.open()
    try:
        stream = source.batches()
        first = await anext(stream)
        fake.listed = ("BTC/USDT",)
        second = await anext(stream)
        third = await anext(stream)
        await stream.aclose()
    finally:
        await source.aclose()
    assert [t.symbol for t in first] == ["BTC/USDT", "ETH/USDT"]
    assert [t.symbol for t in second] == [t.symbol for t in third] == ["BTC/USDT"]
    assert source.unlisted == ["ETH/USDT"]


async def test_symbols_none_of_which_is_listed_are_refused(
    binance: tuple[FakeBinance, str],
) -> None:
    _, url = binance
    source, _ = rest_source(url, symbols=("FOO/USDT", "BAR/USDT"))
    with pytest.raises(SourceInputError, match="binance lists none of FOO/USDT, BAR/USDT"):
        await take(source, 1)


def test_an_unknown_exchange_is_refused_with_suggestions() -> None:
    with pytest.raises(SourceInputError, match=r"ccxt has no exchange 'binanse' \(did you mean"):
        ExchangeSource("binanse")


@pytest.mark.parametrize("symbol", ["BTC/USDT:USDT", "btc/usdt", "BTCUSDT"])
def test_symbols_that_are_not_spot_pairs_are_refused(symbol: str) -> None:
    with pytest.raises(SourceInputError, match="invalid symbol"):
        ExchangeSource("binance", (symbol,))


async def test_streamed_tickers_become_ticks(binance: tuple[FakeBinance, str]) -> None:
    fake, url = binance
    fake.stream_updates = 5
    clock = FakeClock()
    source = ExchangeSource(
        "binance",
        ("BTC/USDT", "ETH/USDT"),
        streaming=True,
        api_urls={"public": f"{url}/api/v3", "ws": {"spot": f"{url.replace('http', 'ws')}/ws"}},
        options=SPOT_ONLY,
        clock=clock,
        sleep=clock.sleep,
    )
    await source.open()
    last = {"BTC/USDT": fake.price("BTC/USDT", 4), "ETH/USDT": fake.price("ETH/USDT", 4)}
    seen: dict[str, list[float]] = {"BTC/USDT": [], "ETH/USDT": []}
    try:
        assert source.streams
        async with asyncio.timeout(20):
            async for batch in source.batches():
                for tick in batch:
                    seen[tick.symbol].append(tick.price)
                if all(prices and prices[-1] == last[s] for s, prices in seen.items()):
                    break
    finally:
        await source.aclose()
    for symbol, prices in seen.items():
        assert prices == sorted(prices), "updates arrive in order, none repeated"
        assert set(prices) <= {fake.price(symbol, step) for step in range(5)}
    assert fake.ticker_requests == [], "streaming does not poll"
    assert clock.sleeps == []
