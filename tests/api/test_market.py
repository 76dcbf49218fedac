"""GET /v1/prices, /v1/prices/{symbol}, /v1/candles: fed by ingested ticks, read with `after`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.live.cursor import encode_cursor
from events.position import Position
from impressox.settings import Settings
from tests.api.conftest import bearer

Key = tuple[UUID, str]
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def tick(
    symbol: str, price: float, at: datetime, volume: float = 1.0, venue: str = "binance"
) -> dict[str, Any]:
    return {
        "type": "price.tick",
        "payload": {
            "symbol": symbol,
            "venue": venue,
            "price": price,
            "volume": volume,
            "source_time": at.isoformat(),
        },
    }


def ingest(client: TestClient, ingester: Key, ticks: list[dict[str, Any]]) -> list[str]:
    """Append `ticks` in order; the `after` positions that make a read see all of them."""
    response = client.post("/v1/events/ticks", json={"events": ticks}, headers=bearer(ingester[1]))
    assert response.status_code == 200, response.text
    latest: dict[str, str] = {}
    for item in response.json()["accepted"]:
        latest[item["stream"]] = item["after"]  # positions grow within a stream
    return sorted(latest.values())


def get(client: TestClient, key: Key, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers=bearer(key[1]))


def walk(client: TestClient, key: Key, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated listing, page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = get(client, key, path, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_prices_are_the_last_tick_of_each_symbol(
    client: TestClient, ingester: Key, user: Key
) -> None:
    after = ingest(
        client,
        ingester,
        [
            tick("BTC/USDT", 100_000.0, START),
            tick("ETH/USDT", 3_000.0, START),
            tick("BTC/USDT", 101_000.0, START + timedelta(seconds=1)),
            tick("BTC/USDT", 99_000.0, START),  # late from the venue, but appended last
        ],
    )
    response = get(client, user, "/v1/prices", after=after)
    assert response.status_code == 200
    assert response.headers["X-Read-Model-Behind"] == "false"
    items = response.json()["items"]
    assert [(i["symbol"], i["price"]) for i in items] == [
        ("BTC/USDT", 99_000.0),
        ("ETH/USDT", 3_000.0),
    ]
    assert items[0]["venue"] == "binance"
    assert not items[0]["simulated"]
    assert items[0]["position"] in after  # the last tick of BTC/USDT's partition
    only_eth = get(client, user, "/v1/prices", symbols=["ETH-USDT", "SOL/USDT"]).json()
    assert [i["symbol"] for i in only_eth["items"]] == ["ETH/USDT"]

    one = get(client, user, "/v1/prices/BTC-USDT")
    assert one.status_code == 200
    assert one.json() == items[0]
    missing = get(client, user, "/v1/prices/DOGE-USDT")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "DOGE/USDT" in missing.json()["detail"]


def test_a_price_posted_by_hand_is_its_own_venue(
    client: TestClient, ingester: Key, user: Key
) -> None:
    """The README's example: a manual tick shows under its venue and moves no other."""
    after = ingest(
        client,
        ingester,
        [
            tick("BTC/USDT", 100_000.0, START, venue="simulator"),
            tick("BTC/USDT", 101_000.0, START + timedelta(seconds=1), venue="manual"),
            tick("BTC/USDT", 100_010.0, START + timedelta(seconds=2), venue="simulator"),
        ],
    )
    manual = get(client, user, "/v1/prices/BTC-USDT", venue="manual", after=after)
    assert manual.status_code == 200, manual.text
    assert (manual.json()["price"], manual.json()["venue"]) == (101_000.0, "manual")
    simulator = get(client, user, "/v1/prices/BTC-USDT", venue="simulator").json()
    assert simulator["price"] == 100_010.0
    assert get(client, user, "/v1/prices/BTC-USDT").json() == simulator  # the latest of any
    listed = get(client, user, "/v1/prices", symbols=["BTC/USDT"]).json()["items"]
    assert [(p["venue"], p["price"]) for p in listed] == [
        ("manual", 101_000.0),
        ("simulator", 100_010.0),
    ]
    only = get(client, user, "/v1/prices", venue="manual").json()["items"]
    assert [p["venue"] for p in only] == ["manual"]
    candles = get(client, user, "/v1/candles", symbol="BTC/USDT", venue="simulator").json()
    [candle] = candles["items"]
    assert (candle["high"], candle["low"], candle["ticks"]) == (100_010.0, 100_000.0, 2)
    missing = get(client, user, "/v1/prices/BTC-USDT", venue="kraken")
    assert missing.status_code == 404
    assert "BTC/USDT on kraken" in missing.json()["detail"]


def test_candles_are_one_minute_ohlcv_oldest_first_within_the_window(
    client: TestClient, ingester: Key, user: Key
) -> None:
    prices = [10.0, 14.0, 9.0, 12.0, 20.0, 21.0, 19.0, 30.0]
    ticks = [
        tick("SOL/USDT", price, START + timedelta(seconds=20 * n), volume=n + 1)
        for n, price in enumerate(prices)
    ]
    after = ingest(client, ingester, [*ticks, tick("ETH/USDT", 1.0, START)])
    response = get(client, user, "/v1/candles", symbol="SOL-USDT", after=after)
    assert response.status_code == 200
    candles = response.json()["items"]
    assert [c["minute"] for c in candles] == [
        "2025-03-01T12:00:00Z",
        "2025-03-01T12:01:00Z",
        "2025-03-01T12:02:00Z",
    ]
    assert candles[0] == {
        "symbol": "SOL/USDT",
        "venue": "binance",
        "minute": "2025-03-01T12:00:00Z",
        "open": 10.0,
        "high": 14.0,
        "low": 9.0,
        "close": 9.0,
        "volume": 6.0,
        "ticks": 3,
    }
    assert (candles[2]["open"], candles[2]["close"], candles[2]["ticks"]) == (19.0, 30.0, 2)
    window = get(
        client,
        user,
        "/v1/candles",
        symbol="SOL/USDT",
        start="2025-03-01T12:01:00+00:00",
        end="2025-03-01T14:02:00+02:00",
    ).json()["items"]
    assert [c["minute"] for c in window] == ["2025-03-01T12:01:00Z"]


def test_pages_walk_every_item_once(client: TestClient, ingester: Key, user: Key) -> None:
    symbols = [f"C{n:02d}/USDT" for n in range(23)]
    minutes = [tick("BTC/USDT", 1.0 + n, START + timedelta(minutes=n)) for n in range(17)]
    after = ingest(client, ingester, [tick(s, 1.0, START) for s in symbols] + minutes)
    get(client, user, "/v1/prices", after=after)  # wait for the projections once
    get(client, user, "/v1/candles", symbol="BTC/USDT", after=after)
    prices = walk(client, user, "/v1/prices", limit=5)
    assert [p["symbol"] for p in prices] == sorted([*symbols, "BTC/USDT"])
    candles = walk(client, user, "/v1/candles", symbol="BTC/USDT", limit=4)
    assert [c["close"] for c in candles] == [1.0 + n for n in range(17)]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/prices/btc-usdt", {}, "path.symbol"),
        ("/v1/prices/BTCUSDT", {}, "path.symbol"),
        ("/v1/prices", {"symbols": "BTC_USDT"}, "query.symbols.0"),
        ("/v1/prices", {"limit": 501}, "query.limit"),
        ("/v1/prices", {"limit": 0}, "query.limit"),
        ("/v1/prices", {"venue": "Binance"}, "query.venue"),
        ("/v1/prices/BTC-USDT", {"venue": "a b"}, "query.venue"),
        ("/v1/candles", {}, "query.symbol"),
        ("/v1/candles", {"symbol": "BTC/USDT", "start": "2025-03-02T00:00:00Z",
                         "end": "2025-03-01T00:00:00Z"}, "query.end"),
        ("/v1/candles", {"symbol": "BTC/USDT", "start": "2025-03-01T00:00:00"}, "query.start"),
        ("/v1/candles", {"symbol": "BTC/USDT", "start": "0001-01-01T00:00:00+05:00"},
         "query.start"),
        ("/v1/candles", {"symbol": "BTC/USDT", "start": "1700000000"}, "query.start"),
        ("/v1/prices", {"after": "no-position"}, "query.after.0"),
        ("/v1/prices", {"after": "elsewhere:{p0}:ticks@1-0"}, "query.after"),
        ("/v1/prices", {"wait_s": 11}, "query.wait_s"),
    ],
)  # fmt: skip
def test_invalid_parameters_are_422_naming_the_field(
    client: TestClient, user: Key, path: str, params: dict[str, Any], field: str
) -> None:
    response = get(client, user, path, **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


def test_after_must_name_a_stream_the_read_model_reads(
    client: TestClient, user: Key, settings: Settings
) -> None:
    posts = settings.stream_names().stream("p0", "posts")
    response = get(client, user, "/v1/prices", after=f"{posts}@1-0")
    assert response.status_code == 422
    assert "prices" in response.json()["detail"]


def test_a_read_after_a_live_cursor_shows_every_event_it_holds(
    client: TestClient, ingester: Key, user: Key, settings: Settings
) -> None:
    """What the web page does: subscribe, then read the snapshot up to the cursor its
    feed starts at, passed unread (cursors are opaque to clients)."""
    after = ingest(client, ingester, [tick("BTC/USDT", 100_000.0, START)])
    positions = {mark.rpartition("@")[0]: Position.parse(mark.rpartition("@")[2]) for mark in after}
    ticks = settings.stream_names().stream_for_key("ticks", "ETH/USDT")
    cursor = encode_cursor(positions | {ticks: Position(0, 0)})  # an empty stream: no wait
    response = get(client, user, "/v1/prices", after_cursor=cursor)
    assert response.headers["X-Read-Model-Behind"] == "false"
    assert [i["symbol"] for i in response.json()["items"]] == ["BTC/USDT"]
    ahead = encode_cursor({ticks: Position(99_999_999_999_999, 0)})
    behind = get(client, user, "/v1/prices", after_cursor=ahead, wait_s=0)
    assert (behind.status_code, behind.headers["X-Read-Model-Behind"]) == (200, "true")


@pytest.mark.parametrize(
    ("cursor", "says"),
    [
        ("not-a-cursor", "pass back a cursor this server sent"),
        ("posts", "a stream this read model (venue_prices) does not read"),
        ("x" * 4097, "at most 4096 characters"),
    ],
)
def test_a_bad_after_cursor_is_422_naming_it(
    client: TestClient, user: Key, settings: Settings, cursor: str, says: str
) -> None:
    if cursor == "posts":
        cursor = encode_cursor({settings.stream_names().stream("p0", "posts"): Position(1, 0)})
    response = get(client, user, "/v1/prices", after_cursor=cursor)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "query.after_cursor"
    assert says in error["message"]


def test_a_bad_cursor_is_400(client: TestClient, user: Key) -> None:
    response = get(client, user, "/v1/prices", cursor="not-a-cursor")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_a_read_that_waited_in_vain_answers_marked_behind(
    client: TestClient, user: Key, settings: Settings
) -> None:
    ticks = settings.stream_names().stream_for_key("ticks", "BTC/USDT")
    response = get(client, user, "/v1/prices", after=f"{ticks}@99999999999999-0", wait_s=0)
    assert response.status_code == 200
    assert response.headers["X-Read-Model-Behind"] == "true"
    assert response.json() == {"items": [], "next_cursor": None}


def test_market_data_needs_a_user_key(client: TestClient, ingester: Key) -> None:
    assert client.get("/v1/prices").status_code == 401
    assert client.get("/v1/candles", params={"symbol": "BTC/USDT"}).status_code == 401
    refused = get(client, ingester, "/v1/prices/BTC-USDT")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
