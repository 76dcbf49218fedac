"""GET /v1/alerts, /v1/notifications, /v1/posts, /v1/chain/events: filters, scope, pages."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from events.catalog import AlertTriggered, CatalogPayload, NotificationFailed, NotificationSent
from events.envelope import Event
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.settings import Settings
from projections.readmodels.recent_alerts import RECENT
from tests.api.conftest import bearer

Key = tuple[UUID, str]
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def append(redis_url: str, settings: Settings, category: str, payloads: list[Any]) -> list[str]:
    """Append catalog events as a handler would; the `after` positions of the write."""

    async def write() -> list[str]:
        redis = await connect_redis(redis_url)
        try:
            store = EventStore(redis, settings.stream_names())
            events = [Event(payload=p, key=p.partition_key()) for p in payloads]
            results = await store.append_batch(category, events)
        finally:
            await redis.aclose()
        latest = {result.stream: f"{result.stream}@{result.position}" for result in results}
        return sorted(latest.values())

    assert all(isinstance(payload, CatalogPayload) for payload in payloads)
    return asyncio.run(write())


def ingest(
    client: TestClient, ingester: Key, category: str, items: list[dict[str, Any]]
) -> list[str]:
    response = client.post(
        f"/v1/events/{category}", json={"events": items}, headers=bearer(ingester[1])
    )
    assert response.status_code == 200, response.text
    return sorted({item["stream"]: item["after"] for item in response.json()["accepted"]}.values())


def get(client: TestClient, key: Key, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers=bearer(key[1]))


def items(client: TestClient, key: Key, path: str, **params: Any) -> list[dict[str, Any]]:
    response = get(client, key, path, **params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def walk(client: TestClient, key: Key, path: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = get(client, key, path, **params, **({"cursor": cursor} if cursor else {})).json()
        found += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return found


def alert(
    owner: UUID, rule: UUID, n: int, subject: str = "BTC/USDT", **extra: Any
) -> AlertTriggered:
    return AlertTriggered(
        rule_id=rule,
        user_id=owner,
        subject=subject,
        condition="crosses_up",
        message=f"alert {n}",
        values={"price": 100_000 + n, "wei": 2**100},
        trigger_event_id=uuid.uuid4(),
        triggered_at=START + timedelta(minutes=n),
        **extra,
    )


@pytest.fixture
def alerts_seeded(
    client: TestClient, user: Key, other_user: Key, redis_url: str, settings: Settings
) -> tuple[UUID, UUID, list[str]]:
    """12 alerts of the user (two rules, two symbols, one critical) and 3 of another user."""
    first, second = uuid.uuid4(), uuid.uuid4()
    mine = [
        alert(
            user[0],
            first if n % 2 else second,
            n,
            "ETH/USDT" if n % 3 == 0 else "BTC/USDT",
            severity="critical" if n == 5 else "warning",
        )
        for n in range(12)
    ]
    theirs = [alert(other_user[0], uuid.uuid4(), n) for n in range(3)]
    return first, second, append(redis_url, settings, "alerts", [*mine, *theirs])


def test_alerts_are_your_own_newest_first_and_filter(
    client: TestClient, user: Key, alerts_seeded: tuple[UUID, UUID, list[str]]
) -> None:
    first, _, after = alerts_seeded
    response = get(client, user, "/v1/alerts", after=after)
    assert response.headers["X-Read-Model-Behind"] == "false"
    mine = response.json()["items"]
    assert [a["message"] for a in mine] == [f"alert {n}" for n in reversed(range(12))]
    assert {a["user_id"] for a in mine} == {str(user[0])}
    assert mine[0]["values"] == {"price": 100_011, "wei": 2**100}
    assert mine[0]["condition"] == "crosses_up"

    def messages(**params: Any) -> list[str]:
        return [a["message"] for a in items(client, user, "/v1/alerts", **params)]

    assert messages(rule_id=str(first)) == [f"alert {n}" for n in (11, 9, 7, 5, 3, 1)]
    assert messages(symbol="ETH-USDT") == [f"alert {n}" for n in (9, 6, 3, 0)]
    assert messages(subject="ETH/USDT") == messages(symbol="ETH/USDT")
    assert messages(severity="critical") == ["alert 5"]
    assert messages(start="2025-03-01T12:02:00Z", end="2025-03-01T12:04:00Z") == [
        "alert 3",
        "alert 2",
    ]
    pages = walk(client, user, "/v1/alerts", limit=5)
    assert [a["id"] for a in pages] == [a["id"] for a in mine]


def test_the_precomputed_first_page_matches_the_history(
    client: TestClient, user: Key, redis_url: str, settings: Settings
) -> None:
    """More alerts than one partition's recent document holds, on subjects that land in
    different partitions, with ties in time: the first page (served from the recent
    alerts) and its cursor agree with the history read page by page."""
    rule = uuid.uuid4()
    subjects = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "ARB/USDT", "OP/USDT"]
    count = RECENT + 40
    after = append(
        redis_url,
        settings,
        "alerts",
        [alert(user[0], rule, n // 2, subjects[n % len(subjects)]) for n in range(count)],
    )
    first = get(client, user, "/v1/alerts", after=after).json()
    from_history = walk(client, user, "/v1/alerts", limit=RECENT + 1, after=after)
    assert len(from_history) == count
    assert [a["id"] for a in first["items"]] == [a["id"] for a in from_history[:50]]
    assert [a["id"] for a in walk(client, user, "/v1/alerts", limit=RECENT)] == [
        a["id"] for a in from_history
    ]
    times = [a["triggered_at"] for a in from_history]
    assert times == sorted(times, reverse=True)


def test_another_users_alerts_are_for_admins_only(
    client: TestClient,
    user: Key,
    other_user: Key,
    admin: Key,
    alerts_seeded: tuple[UUID, UUID, list[str]],
) -> None:
    after = alerts_seeded[2]
    refused = get(client, user, "/v1/alerts", user_id=str(other_user[0]))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert len(items(client, user, "/v1/alerts", user_id=str(user[0]), after=after)) == 12
    theirs = items(client, admin, "/v1/alerts", user_id=str(other_user[0]), after=after)
    assert [a["message"] for a in theirs] == ["alert 2", "alert 1", "alert 0"]
    assert items(client, admin, "/v1/alerts") == []  # an admin's own: none


def test_notifications_are_your_own_and_filter(
    client: TestClient, user: Key, other_user: Key, redis_url: str, settings: Settings
) -> None:
    def delivery(
        n: int, owner: UUID, channel: str = "web"
    ) -> NotificationSent | NotificationFailed:
        common: dict[str, Any] = {
            "user_id": owner,
            "channel_id": channel,
            "channel_kind": channel,
            "subject_event_id": uuid.uuid4(),
            "title": f"n{n}",
            "at": START + timedelta(minutes=n),
        }
        if n % 4 == 3:
            return NotificationFailed(**common, error="blocked by the user")
        return NotificationSent(**common, response="HTTP 200")

    payloads = [delivery(n, user[0], "tg" if n % 2 else "web") for n in range(8)]
    after = append(redis_url, settings, "notifications", [*payloads, delivery(0, other_user[0])])
    mine = items(client, user, "/v1/notifications", after=after)
    assert [n["title"] for n in mine] == [f"n{n}" for n in reversed(range(8))]
    failed = items(client, user, "/v1/notifications", status="failed")
    assert [(n["title"], n["error"], n["response"]) for n in failed] == [
        ("n7", "blocked by the user", None),
        ("n3", "blocked by the user", None),
    ]
    assert [n["title"] for n in items(client, user, "/v1/notifications", channel_id="web")] == [
        "n6",
        "n4",
        "n2",
        "n0",
    ]
    early = items(client, user, "/v1/notifications", end="2025-03-01T12:02:00Z")
    assert [n["title"] for n in early] == ["n1", "n0"]
    assert get(client, user, "/v1/notifications", user_id=str(other_user[0])).status_code == 403


def post(n: int, **payload: Any) -> dict[str, Any]:
    return {
        "type": "post.scraped",
        "payload": {
            "source": "x",
            "post_id": str(2**64 + n),
            "author": "ansem",
            "text": f"post {n}",
            "created_at": (START + timedelta(hours=n)).isoformat(),
            **payload,
        },
    }


def test_posts_filter_by_symbol_cashtag_author_source_time_and_engagement(
    client: TestClient, ingester: Key, user: Key
) -> None:
    after = ingest(
        client,
        ingester,
        "posts",
        [
            post(0, cashtags=["$sol"], symbols=["SOL/USDT"], engagement={"likes": 5}),
            post(1, cashtags=["SOL", "$jup"], engagement={"likes": 50, "reposts": 10}),
            post(2, author="cobie", cashtags=["$BTC"], symbols=["BTC/USDT"]),
            post(3, source="rss", author="coindesk"),
            *[post(10 + n, author="bulk") for n in range(11)],
        ],
    )
    everything = items(client, user, "/v1/posts", after=after, limit=500)
    assert len(everything) == 15
    assert everything[0]["text"] == "post 20"  # newest first, by when it was published

    def texts(**params: Any) -> list[str]:
        return [p["text"] for p in items(client, user, "/v1/posts", **params)]

    assert texts(symbol="SOL-USDT") == ["post 0"]
    assert texts(cashtag="$SOL") == texts(cashtag="sol") == ["post 1", "post 0"]
    assert texts(author="cobie") == ["post 2"]
    assert texts(source="rss") == ["post 3"]
    assert texts(min_engagement=20) == ["post 1"]
    assert texts(start=START.isoformat(), end=(START + timedelta(hours=2)).isoformat()) == [
        "post 1",
        "post 0",
    ]
    (first,) = [p for p in everything if p["text"] == "post 1"]
    assert first["id"] == f"x:{2**64 + 1}"
    assert first["engagement_total"] == 60
    assert first["engagement"] == {"likes": 50, "reposts": 10, "replies": 0, "quotes": 0}
    pages = walk(client, user, "/v1/posts", limit=4)
    assert [p["id"] for p in pages] == [p["id"] for p in everything]


def chain_log(n: int, *, address: str, removed: bool = False, **payload: Any) -> dict[str, Any]:
    return {
        "type": "chain.log",
        "occurred_at": (START + timedelta(minutes=n)).isoformat(),
        "payload": {
            "chain_id": 1,
            "block_number": 100 + n,
            "block_hash": "0x" + "a" * 64,
            "tx_hash": f"0x{n:064x}",
            "log_index": 0,
            "address": address,
            "event": "Transfer",
            "args": {"value": 10**30},
            "removed": removed,
            **payload,
        },
    }


def test_chain_events_filter_and_hide_removed_logs(
    client: TestClient, ingester: Key, user: Key
) -> None:
    token, pool = "0x" + "AbC1" * 10, "0x" + "9" * 40
    after = ingest(
        client,
        ingester,
        "chain",
        [
            chain_log(0, address=token),
            chain_log(1, address=token),
            chain_log(2, address=pool, event="Swap"),
            chain_log(3, address=pool, chain_id=8453),
            chain_log(1, address=token, removed=True),
        ],
    )
    logs = items(client, user, "/v1/chain/events", after=after)
    assert [log["block_number"] for log in logs] == [103, 102, 100]
    assert logs[-1]["args"] == {"value": 10**30}
    assert logs[-1]["address"] == token.lower()

    def blocks(**params: Any) -> list[int]:
        return [log["block_number"] for log in items(client, user, "/v1/chain/events", **params)]

    assert blocks(include_removed=True) == [103, 102, 101, 100]
    assert blocks(address=token.upper().replace("0X", "0x")) == [100]
    assert blocks(chain_id=8453) == [103]
    assert blocks(event="Swap") == [102]
    assert blocks(start="2025-03-01T12:02:00Z") == [103, 102]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/alerts", {"symbol": "BTC/USDT", "subject": "BTC/USDT"}, "query.symbol"),
        ("/v1/alerts", {"rule_id": "not-a-uuid"}, "query.rule_id"),
        ("/v1/alerts", {"severity": "loud"}, "query.severity"),
        ("/v1/alerts", {"user_id": "me"}, "query.user_id"),
        ("/v1/notifications", {"status": "queued"}, "query.status"),
        ("/v1/notifications", {"start": "2025-03-02T00:00:00Z",
                               "end": "2025-03-02T00:00:00Z"}, "query.end"),
        ("/v1/posts", {"cashtag": "$$"}, "query.cashtag"),
        ("/v1/posts", {"min_engagement": -1}, "query.min_engagement"),
        ("/v1/posts", {"limit": 501}, "query.limit"),
        ("/v1/chain/events", {"address": "0x12"}, "query.address"),
        ("/v1/chain/events", {"chain_id": 2**64}, "query.chain_id"),
        ("/v1/chain/events", {"after": "x"}, "query.after.0"),
    ],
)  # fmt: skip
def test_invalid_filters_are_422_naming_the_field(
    client: TestClient, user: Key, path: str, params: dict[str, Any], field: str
) -> None:
    response = get(client, user, path, **params)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    "path", ["/v1/alerts", "/v1/notifications", "/v1/posts", "/v1/chain/events"]
)
def test_feeds_need_a_user_key(client: TestClient, ingester: Key, path: str) -> None:
    assert client.get(path).status_code == 401
    assert get(client, ingester, path).status_code == 403
    assert get(client, ingester, path, cursor="garbage").status_code == 403
