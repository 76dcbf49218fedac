"""CoinGecko simple-price, against a local server answering as CoinGecko does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from events.backoff import Backoff
from sources.coingecko import CoinGeckoSource
from sources.errors import SourceInputError, VenueError
from tests.sources.servers import FakeCoinGecko, serving
from tests.sources.source_contract import SourceContract
from tests.sources.support import FakeClock, take


@pytest.fixture
def coingecko() -> Iterator[tuple[FakeCoinGecko, str]]:
    fake = FakeCoinGecko()
    with serving(fake.app()) as url:
        yield fake, f"{url}/api/v3"


def source_for(
    base_url: str, coins: dict[str, str] | None = None, **options: Any
) -> tuple[CoinGeckoSource, FakeClock]:
    clock = FakeClock()
    source = CoinGeckoSource(
        coins or {"bitcoin": "BTC/USD", "ethereum": "ETH/EUR"},
        base_url=base_url,
        poll_interval_s=30.0,
        backoff=Backoff(first_s=1.0, max_s=8.0, jitter="half"),
        clock=clock,
        sleep=clock.sleep,
        **options,
    )
    return source, clock


class TestCoinGeckoContract(SourceContract):
    @pytest.fixture(autouse=True)
    def _server(self, coingecko: tuple[FakeCoinGecko, str]) -> None:
        self.fake, self.url = coingecko

    def create_source(self) -> CoinGeckoSource:
        return source_for(self.url)[0]

    def rewind(self) -> None:
        self.fake.requests = 0


async def test_prices_map_coin_ids_to_symbols(coingecko: tuple[FakeCoinGecko, str]) -> None:
    fake, url = coingecko
    source, clock = source_for(url)
    batches = await take(source, 2)
    assert [[(t.symbol, t.price, t.venue) for t in batch] for batch in batches] == [
        [("BTC/USD", 100_000.0, "coingecko"), ("ETH/EUR", 3_500.0, "coingecko")],
        [("BTC/USD", 100_100.0, "coingecko"), ("ETH/EUR", 3_503.5, "coingecko")],
    ]
    assert batches[0][0].source_time.timestamp() == fake.start_s
    assert batches[1][0].volume == pytest.approx(1e6 / 100_100.0)
    assert clock.sleeps == [30.0]
    query = fake.answered[0]
    assert query["ids"] == "bitcoin,ethereum"
    assert query["vs_currencies"] == "eur,usd"
    assert query["include_24hr_vol"] == query["include_last_updated_at"] == "true"
    assert not any(key.startswith("x-cg-") for key in query), "no key, no header"


async def test_a_429_is_waited_out_as_retry_after_says(
    coingecko: tuple[FakeCoinGecko, str],
) -> None:
    fake, url = coingecko
    fake.failures = [(429, {"Retry-After": "42"}), (429, {})]
    source, clock = source_for(url)
    batches = await take(source, 1)
    assert len(batches[0]) == 2
    assert clock.sleeps[0] == 42.0
    assert 0.5 <= clock.sleeps[1] <= 1.0, "without Retry-After, the backoff decides"


async def test_server_errors_are_retried_with_growing_waits(
    coingecko: tuple[FakeCoinGecko, str],
) -> None:
    fake, url = coingecko
    fake.failures = [(503, {}), (500, {}), (502, {})]
    source, clock = source_for(url)
    batches = await take(source, 1)
    assert len(batches[0]) == 2
    caps = [1.0, 2.0, 4.0]
    assert len(clock.sleeps) == 3
    assert all(cap / 2 <= wait <= cap for wait, cap in zip(clock.sleeps, caps, strict=True))


async def test_a_refused_key_stops_the_source(coingecko: tuple[FakeCoinGecko, str]) -> None:
    fake, url = coingecko
    fake.failures = [(401, {})]
    source, _ = source_for(url, api_key="wrong")
    with pytest.raises(VenueError, match="HTTP 401"):
        await take(source, 1)


async def test_the_key_goes_in_the_demo_header(coingecko: tuple[FakeCoinGecko, str]) -> None:
    fake, url = coingecko
    source, _ = source_for(url, api_key="CG-demo-key")
    await take(source, 1)
    assert fake.answered[0]["x-cg-demo-api-key"] == "CG-demo-key"


async def test_an_unknown_coin_id_is_reported_once_and_dropped(
    coingecko: tuple[FakeCoinGecko, str],
) -> None:
    fake, url = coingecko
    source, _ = source_for(url, {"bitcoin": "BTC/USD", "notacoin": "NOT/USD"})
    batches = await take(source, 3)
    assert source.unknown == ["notacoin"]
    assert [[t.symbol for t in batch] for batch in batches] == [["BTC/USD"]] * 3
    assert [query["ids"] for query in fake.answered] == ["bitcoin,notacoin", "bitcoin", "bitcoin"]


async def test_coin_ids_none_of_which_is_known_are_refused(
    coingecko: tuple[FakeCoinGecko, str],
) -> None:
    _, url = coingecko
    source, _ = source_for(url, {"nope": "NOPE/USD"})
    with pytest.raises(SourceInputError, match="none of the coin ids nope"):
        await take(source, 1)


def test_symbols_must_be_base_and_quote() -> None:
    with pytest.raises(SourceInputError, match="invalid symbol 'bitcoin'"):
        CoinGeckoSource({"bitcoin": "bitcoin"})
