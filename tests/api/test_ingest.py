"""POST /v1/events/{category}: valid items appended, invalid ones reported, none written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from events.redis_client import entries
from impressox.settings import Settings
from tests.api.conftest import bearer

Key = tuple[UUID, str]


def tick(symbol: str = "BTC/USDT", price: Any = 100_000.0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "price.tick",
        "payload": {
            "symbol": symbol,
            "venue": "binance",
            "price": price,
            "source_time": "2025-03-01T12:00:00Z",
        },
        **extra,
    }


def chain_log(**payload: Any) -> dict[str, Any]:
    return {
        "type": "chain.log",
        "payload": {
            "chain_id": 1,
            "block_number": 7,
            "block_hash": "0x" + "1" * 64,
            "tx_hash": "0x" + "2" * 64,
            "log_index": 0,
            "address": "0x" + "3" * 40,
            **payload,
        },
    }


@pytest.fixture
def redis_sync(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


def stored(redis: Redis, settings: Settings, category: str) -> int:
    """How many entries the category's partitions hold."""
    names = settings.stream_names()
    return sum(int(redis.xlen(stream)) for stream in names.category_streams(category))


def post(client: TestClient, key: Key, category: str, events: list[dict[str, Any]]) -> Any:
    return client.post(f"/v1/events/{category}", json={"events": events}, headers=bearer(key[1]))


def test_valid_events_are_appended_to_the_partition_of_their_key(
    client: TestClient, ingester: Key, redis_sync: Redis, settings: Settings
) -> None:
    response = post(client, ingester, "ticks", [tick("BTC/USDT"), tick("ETH/USDT", 3_000.0)])
    assert response.status_code == 200
    body = response.json()
    assert body["rejected"] == []
    names = settings.stream_names()
    for index, (item, symbol) in enumerate(
        zip(body["accepted"], ["BTC/USDT", "ETH/USDT"], strict=True)
    ):
        assert item["index"] == index
        assert item["type"] == "price.tick"
        assert item["stream"] == names.stream_for_key("ticks", symbol)
        assert item["after"] == f"{item['stream']}@{item['position']}"
        assert not item["duplicate"]
        ((_, fields),) = entries(
            redis_sync.xrange(item["stream"], item["position"], item["position"])
        )
        assert fields[b"event_id"].decode() == item["event_id"]
        assert fields[b"key"].decode() == symbol
    assert stored(redis_sync, settings, "ticks") == 2


def test_a_mixed_batch_appends_the_valid_items_and_names_each_invalid_field(
    client: TestClient, ingester: Key, redis_sync: Redis, settings: Settings
) -> None:
    events = [
        tick(),
        tick(price=-1),
        tick("btc/usdt"),
        {"type": "alert.triggered", "payload": {}},
        {"type": "post.scraped", "payload": {}},
        tick("SOL/USDT", 150.0),
    ]
    response = post(client, ingester, "ticks", events)
    assert response.status_code == 207
    body = response.json()
    assert [item["index"] for item in body["accepted"]] == [0, 5]
    rejected = {item["index"]: item["errors"] for item in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4]
    assert [error["field"] for error in rejected[1]] == ["payload.price"]
    assert [error["field"] for error in rejected[2]] == ["payload.symbol"]
    assert rejected[3] == [
        {
            "field": "type",
            "message": "'alert.triggered' is not an ingestable type of ticks; use one of:"
            " price.tick",
        }
    ]
    assert rejected[4][0]["field"] == "type"
    assert stored(redis_sync, settings, "ticks") == 2


def test_nothing_valid_is_a_422_problem_listing_every_item(
    client: TestClient, ingester: Key, redis_sync: Redis, settings: Settings
) -> None:
    response = post(client, ingester, "ticks", [tick(price="high"), tick("BTC")])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Invalid request"
    fields = [error["field"] for error in body["errors"]]
    assert "events.0.payload.price" in fields
    assert [item["index"] for item in body["rejected"]] == [0, 1]
    assert stored(redis_sync, settings, "ticks") == 0


def test_a_retried_request_appends_nothing_twice(
    client: TestClient, ingester: Key, redis_sync: Redis, settings: Settings
) -> None:
    chosen = str(uuid.uuid4())
    events = [tick(), tick("ETH/USDT", 3_000.0, event_id=chosen)]
    first = post(client, ingester, "ticks", events).json()["accepted"]
    retry = post(client, ingester, "ticks", events).json()["accepted"]
    assert [item["duplicate"] for item in retry] == [True, True]
    assert [(i["stream"], i["position"], i["event_id"]) for i in retry] == [
        (i["stream"], i["position"], i["event_id"]) for i in first
    ]
    assert first[1]["event_id"] == chosen
    assert stored(redis_sync, settings, "ticks") == 2


def test_only_ingestable_categories_exist_here(client: TestClient, ingester: Key) -> None:
    for category in ("alerts", "notifications", "nowhere"):
        response = post(client, ingester, category, [tick()])
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "ingestable: chain, posts, ticks" in response.json()["detail"]


def test_the_ingest_scope_is_needed(client: TestClient, user: Key, admin: Key) -> None:
    assert client.post("/v1/events/ticks", json={"events": [tick()]}).status_code == 401
    assert post(client, user, "ticks", [tick()]).status_code == 403
    assert post(client, admin, "ticks", [tick()]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"events": []},
        {"events": [tick()] * 1001},
        {"events": [tick(unexpected=True)]},
        {"events": [tick(occurred_at="2025-03-01T12:00:00")]},
        {"items": [tick()]},
    ],
    ids=["empty", "too-many", "unknown-field", "naive-time", "wrong-shape"],
)
def test_a_malformed_request_is_refused_whole(
    client: TestClient, ingester: Key, body: dict[str, Any]
) -> None:
    response = client.post("/v1/events/ticks", json=body, headers=bearer(ingester[1]))
    assert response.status_code == 422
    assert response.json()["errors"]


def test_numbers_mongodb_cannot_hold_are_refused_except_in_free_form_args(
    client: TestClient, ingester: Key
) -> None:
    response = post(
        client,
        ingester,
        "chain",
        [chain_log(args={"value": 2**200}), chain_log(log_index=1, block_number=2**64)],
    )
    assert response.status_code == 207
    (rejected,) = response.json()["rejected"]
    assert rejected["index"] == 1
    assert rejected["errors"][0]["field"] == "payload.block_number"


def test_a_tick_from_the_future_is_refused(client: TestClient, ingester: Key) -> None:
    """A tick far ahead of our clock would move the rule engine's clock (issue 12)."""
    ahead = datetime.now(UTC) + timedelta(hours=1)
    future = tick()
    future["payload"]["source_time"] = ahead.isoformat()
    response = post(client, ingester, "ticks", [tick(), future])
    assert response.status_code == 207
    (rejected,) = response.json()["rejected"]
    assert rejected["index"] == 1
    assert rejected["errors"][0]["field"] == "payload.source_time"
    assert "in the future" in rejected["errors"][0]["message"]
