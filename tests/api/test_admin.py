"""The admin API: streams, events by position and time, causal chains, aggregates at any
version, read model rebuilds, dead letters; an admin key for all of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from aggregates.services.bundle import Services
from events.envelope import Event, UnknownPayload
from events.store import EventStore
from handlers.dead_letter_ops import DeadLetters, retry_stream
from handlers.worker import Worker
from tests.api.conftest import bearer
from tests.factories import Ponged, ping
from tests.handlers.runtime_contract import declare
from tests.handlers.support import FAST, running, wait_until
from tests.handlers.test_dead_letter_ops import Fussy
from tests.readside import eventually

Key = tuple[UUID, str]


def get(client: TestClient, key: Key, path: str, **params: Any) -> Any:
    response = client.get(f"/v1/admin{path}", headers=bearer(key[1]), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def refused(client: TestClient, key: Key, path: str, status: int, **params: Any) -> str:
    response = client.get(f"/v1/admin{path}", headers=bearer(key[1]), params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


def test_admin_endpoints_need_an_admin_key(client: TestClient, user: Key) -> None:
    assert client.get("/v1/admin/streams").status_code == 401
    assert refused(client, user, "/streams", 403).endswith("with the 'admin' scope")
    assert (
        client.post("/v1/admin/projections/api_keys/rebuild", headers=bearer(user[1])).status_code
        == 403
    )


async def test_streams_and_one_stream(store: EventStore, client: TestClient, admin: Key) -> None:
    await store.append_batch("pings", [ping(n, key=f"k{n}") for n in range(12)])
    streams = get(client, admin, "/streams", category="pings")
    assert {s["category"] for s in streams} == {"pings"}
    assert sum(s["length"] for s in streams) == 12
    everything = get(client, admin, "/streams")
    categories = {s["category"] for s in everything}
    assert "log" in categories, "the applications' logs are listed"
    assert not [c for c in categories if c.startswith(("agg.", "snap."))], "single aggregates"
    log = next(s for s in everything if s["stream"].endswith("{app.users}:log"))
    assert any(g["group"] == "proj-api_keys-g1" for g in log["groups"])

    one = get(client, admin, f"/streams/{streams[0]['stream']}")
    assert one == streams[0]
    missing = store.names.stream("p0", "nothing")
    assert refused(client, admin, f"/streams/{missing}", 404) == f"no stream {missing}"
    assert "is not an Impressox stream name" in refused(client, admin, "/streams/elsewhere", 422)


async def test_events_of_a_category_page_in_position_order(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    appended = await store.append_batch("pings", [ping(n, key=f"k{n % 5}") for n in range(23)])
    positions = sorted((r.position, r.stream) for r in appended)

    def walk(direction: str, limit: int) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"category": "pings", "limit": limit, "direction": direction}
            if cursor:
                params["cursor"] = cursor
            page = get(client, admin, "/events", **params)
            seen += [(e["position"], e["stream"]) for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    expected = [(str(p), s) for p, s in positions]
    newest_first = [
        (str(p), s) for p, s in sorted(positions, key=lambda e: (-e[0].ms, -e[0].seq, e[1]))
    ]
    assert walk("asc", 4) == expected
    assert walk("desc", 5) == newest_first  # ties in partition order, both ways
    assert walk("asc", 1000) == expected


async def test_events_by_bounds_type_and_correlation(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    chain = uuid4()
    results = await store.append_batch(
        "pings", [ping(n, key="same", correlation_id=chain if n % 2 else None) for n in range(10)]
    )
    stream = results[0].stream
    everything = get(client, admin, "/events", stream=stream)["items"]
    assert [e["payload"]["n"] for e in everything] == list(range(10))
    assert everything[0]["type"] == "test.ping"
    assert everything[0]["appended_at"]

    middle = get(client, admin, "/events", stream=stream, **{"from": everything[3]["position"]},
                 to=everything[5]["position"])["items"]  # fmt: skip
    assert [e["payload"]["n"] for e in middle] == [3, 4, 5]
    start = datetime.fromisoformat(everything[0]["appended_at"])
    by_time = get(client, admin, "/events", stream=stream, start=start.isoformat(),
                  end=(start + timedelta(hours=1)).isoformat())["items"]  # fmt: skip
    assert len(by_time) == 10
    before = (start - timedelta(days=1)).isoformat()
    assert get(client, admin, "/events", stream=stream, end=before)["items"] == []
    chained = get(client, admin, "/events", category="pings", correlation_id=str(chain))
    assert [e["payload"]["n"] for e in chained["items"]] == [1, 3, 5, 7, 9]
    newest = get(client, admin, "/events", stream=stream, direction="desc", limit=2)["items"]
    assert [e["payload"]["n"] for e in newest] == [9, 8]
    assert get(client, admin, "/events", category="pings", type="test.pong")["items"] == []


async def test_unknown_types_and_foreign_entries_are_shown_not_refused(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    unknown = Event(type="elsewhere.thing", key="x", payload=UnknownPayload(colour="red"))
    stream = (await store.append("pings", unknown)).stream
    await store.redis.xadd(stream, {"not": "ours"})
    first, second = get(client, admin, "/events", stream=stream)["items"]
    assert (first["type"], first["payload"], first["undecodable"]) == (
        "elsewhere.thing",
        {"colour": "red"},
        None,
    )
    assert second["payload"] == {"fields": {"not": "ours"}}
    assert "not in the Impressox format" in second["undecodable"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 422, "give `stream` or `category`"),
        ({"category": "pings", "stream": "ix:{p0}:pings"}, 422, "give `stream` or `category`"),
        ({"category": "Pings"}, 422, "invalid category"),
        ({"category": "pings", "from": "12-x"}, 422, "query.from"),
        ({"category": "pings", "from": f"{2**64}-0"}, 422, "beyond the largest stream position"),
        ({"category": "pings", "from": "20-0", "to": "10-0"}, 422, "before the lower bound"),
        (
            {"category": "pings", "from": "1-0", "start": "2026-01-01T00:00:00Z"},
            422,
            "not both",
        ),
        ({"category": "pings", "start": "2026-01-01T00:00:00"}, 422, "query.start"),
        ({"category": "pings", "cursor": "bm9wZQ"}, 400, "invalid cursor"),
        ({"category": "pings", "limit": 0}, 422, "query.limit"),
    ],
)
def test_event_queries_are_checked(
    client: TestClient, admin: Key, params: dict[str, Any], status: int, message: str
) -> None:
    assert message in refused(client, admin, "/events", status, **params)


async def test_an_unknown_stream_is_a_404(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    missing = store.names.stream("p1", "nothing")
    assert refused(client, admin, "/events", 404, stream=missing) == f"no stream {missing}"


async def test_a_correlation_shows_the_whole_chain_in_time_order(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    root = ping(1, key="chain")
    await store.append_batch("pings", [ping(n) for n in range(20)])
    await store.append("pings", root)
    caused = root.caused(Ponged(n=1))
    await store.append("pongs", caused)
    await store.append("pings", ping(2, key="chain", correlation_id=root.correlation_id))
    chain = get(client, admin, f"/correlations/{root.correlation_id}")
    assert [(e["type"], e["event_id"]) for e in chain["events"][:2]] == [
        ("test.ping", str(root.event_id)),
        ("test.pong", str(caused.event_id)),
    ]
    assert len(chain["events"]) == 3
    assert chain["truncated"] is False
    assert chain["streams_scanned"] >= 3
    cut = get(client, admin, f"/correlations/{root.correlation_id}", limit=2)
    assert (len(cut["events"]), cut["truncated"]) == (2, True)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert get(client, admin, f"/correlations/{root.correlation_id}", start=later)["events"] == []
    assert "must not be before start" in refused(
        client, admin, f"/correlations/{uuid4()}", 422, start=later, end="2020-01-01T00:00:00Z"
    )


def test_aggregates_now_at_a_version_at_a_time_and_their_history(
    client: TestClient, admin: Key, services: Services
) -> None:
    born = datetime.now(UTC) - timedelta(seconds=1)
    user_id = services.users.register("Ada")
    services.users.issue_api_key(user_id, {"name": "laptop", "scopes": ["user"]})
    now = get(client, admin, f"/aggregates/{user_id}")
    assert (now["kind"], now["version"], now["id"]) == ("user", 2, str(user_id))
    first = get(client, admin, f"/aggregates/{user_id}", version=1)
    assert first["version"] == 1
    at_now = get(client, admin, f"/aggregates/{user_id}", at=datetime.now(UTC).isoformat())
    assert at_now["version"] == 2
    history = get(client, admin, f"/aggregates/{user_id}/history")
    assert [e["originator_version"] for e in history] == [1, 2]
    assert history[1]["type"] == "user.api_key_issued"
    assert "originator_id" not in history[1]["data"]
    assert "did not exist yet" in refused(
        client, admin, f"/aggregates/{user_id}", 404, at=(born - timedelta(days=1)).isoformat()
    )
    assert refused(client, admin, f"/aggregates/{uuid4()}", 404).startswith("no aggregate")
    assert refused(client, admin, f"/aggregates/{uuid4()}/history", 404).startswith("no aggregate")
    assert "not both" in refused(
        client, admin, f"/aggregates/{user_id}", 422, version=1, at=born.isoformat()
    )
    beyond = refused(client, admin, f"/aggregates/{user_id}", 422, version=3)
    assert "3 is beyond its head" in beyond


def test_projections_are_listed_and_a_rebuild_is_swapped_in(client: TestClient, admin: Key) -> None:
    def api_keys() -> dict[str, Any]:
        listed = get(client, admin, "/projections")
        return next(p for p in listed if p["name"] == "api_keys")

    assert eventually(lambda: api_keys()["backlog"] == 0)
    assert (api_keys()["active"], api_keys()["started"]) == (1, True)
    response = client.post("/v1/admin/projections/api_keys/rebuild", headers=bearer(admin[1]))
    assert response.status_code == 202
    assert response.json() == {
        "projection": "api_keys",
        "building": 2,
        "collection": "api_keys_g2",
        "group": "proj-api_keys-g2",
    }
    eventually(lambda: api_keys()["active"] == 2)  # the projector caught up and swapped
    assert api_keys()["building"] is None
    assert get(client, admin, "/streams", category="log")  # the key still works after the swap
    nothing = client.post("/v1/admin/projections/nothing/rebuild", headers=bearer(admin[1]))
    assert nothing.status_code == 404


async def test_dead_letters_are_listed_retried_and_discarded(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    fussy = Fussy()
    letters = DeadLetters(store)
    await store.append_batch("pings", [ping(13, key=f"k{k}") for k in range(4)])
    async with running(Worker(declare("fussy", fussy.handle), store, FAST)):
        await wait_until(lambda: _dead(letters, 4))
    page = get(client, admin, "/dead-letters", limit=3)
    assert len(page["items"]) == 3
    assert page["next_cursor"]
    rest = get(client, admin, "/dead-letters", cursor=page["next_cursor"])
    items = page["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert {(i["handler"], i["original_type"], i["error"]) for i in items} == {
        ("fussy", "test.ping", "13 is unlucky")
    }
    ids = [item["id"] for item in items]
    headers = bearer(admin[1])

    retried = client.post(
        "/v1/admin/dead-letters/fussy/retry", headers=headers, json={"ids": ids[:2]}
    )
    assert retried.json() == {"handler": "fussy", "retried": 2}
    again = client.post(
        "/v1/admin/dead-letters/fussy/retry", headers=headers, json={"ids": ids[:1]}
    )
    assert again.status_code == 404
    assert "has no dead letter" in again.json()["detail"]
    discarded = client.post(
        "/v1/admin/dead-letters/fussy/discard", headers=headers, json={"ids": ids[2:3]}
    )
    assert discarded.json() == {"handler": "fussy", "discarded": 1}
    everything = client.post(
        "/v1/admin/dead-letters/fussy/retry", headers=headers, json={"all": True}
    )
    assert everything.json() == {"handler": "fussy", "retried": 1}
    assert get(client, admin, "/dead-letters")["items"] == []
    moved = [await store.redis.xlen(retry_stream(store.names, f"p{p}", "fussy")) for p in range(4)]
    assert sum(moved) == 3

    for body, field in (
        ({"ids": ["p0"]}, "invalid dead letter id"),
        ({"ids": ["p0/1-0"], "all": True}, "not both"),
        ({}, "not both and not neither"),
        ({"ids": []}, "body.ids"),
    ):
        bad = client.post("/v1/admin/dead-letters/fussy/retry", headers=headers, json=body)
        assert bad.status_code == 422, body
        assert field in bad.json()["detail"], bad.json()
    bad_handler = client.post(
        "/v1/admin/dead-letters/Fussy/discard", headers=headers, json={"ids": ["p0/1-0"]}
    )
    assert bad_handler.status_code == 422
    assert get(client, admin, "/dead-letters", handler="fussy")["items"] == []


async def _dead(letters: DeadLetters, count: int) -> bool:
    return len((await letters.page()).items) >= count
