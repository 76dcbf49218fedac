"""Dry-run rebuilds (a scratch generation diffed against the active one), and the list
of event types the explorer filters by."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pymongo import MongoClient
from pymongo.synchronous.database import Database

from aggregates.services.bundle import Services
from events.store import EventStore
from impressox.settings import Settings
from tests.api.conftest import bearer
from tests.api.test_admin import Key, get, refused
from tests.factories import ping
from tests.readside import eventually, issue_key


def users_model(client: TestClient, admin: Key) -> dict[str, Any]:
    listed = get(client, admin, "/projections")
    return next(p for p in listed if p["name"] == "users")


def test_a_dry_run_shows_what_a_rebuild_would_change_then_goes(
    client: TestClient, admin: Key, services: Services, settings: Settings, mongo_url: str
) -> None:
    ada, _ = issue_key(services, "user", name="ada")
    bob, _ = issue_key(services, "user", name="bob")
    eventually(lambda: users_model(client, admin)["backlog"] == 0)
    active = f"users_g{users_model(client, admin)['active']}"
    with MongoClient[dict[str, Any]](mongo_url) as mongo:  # the active one drifted
        database: Database[dict[str, Any]] = mongo[settings.mongo_database]
        eventually(lambda: database[active].count_documents({}) >= 3)
        database[active].update_one({"_id": str(ada)}, {"$set": {"display_name": "Eve"}})
        database[active].delete_one({"_id": str(bob)})
        database[active].insert_one({"_id": "stray", "display_name": "nobody", "_pos": "0"})
    headers = bearer(admin[1])

    started = client.post("/v1/admin/projections/users/scratch", headers=headers)
    assert started.status_code == 202, started.text
    number = started.json()["scratch"]
    assert started.json()["collection"] == f"users_g{number}"
    again = client.post("/v1/admin/projections/users/scratch", headers=headers)
    assert again.json()["scratch"] == number  # one dry run at a time: the same one
    assert users_model(client, admin)["scratch"] == number

    done = eventually(
        lambda: (body := get(client, admin, "/projections/users/scratch"))["diff"] and body
    )
    diff = done["diff"]
    assert (done["backlog"], diff["added"], diff["removed"], diff["changed"]) == (0, 1, 1, 1)
    assert diff["unchanged"] == diff["compared"] - 2
    changes = {sample["change"]: sample for sample in diff["samples"]}
    assert changes["changed"]["id"] == str(ada)
    assert changes["changed"]["before"]["display_name"] == "Eve"
    assert changes["changed"]["after"]["display_name"] == "ada user"
    assert changes["added"]["id"] == str(bob)
    assert changes["removed"]["id"] == "stray"
    assert "_pos" not in changes["changed"]["after"]
    assert users_model(client, admin)["active"] != number  # never swapped in

    rebuild = client.post("/v1/admin/projections/users/rebuild", headers=headers)
    assert rebuild.json()["building"] == number + 1  # numbers never collide

    discarded = client.delete("/v1/admin/projections/users/scratch", headers=headers)
    assert discarded.status_code == 200
    assert discarded.json()["scratch"] == number
    assert refused(client, admin, "/projections/users/scratch", 404).startswith("users has no")
    with MongoClient[dict[str, Any]](mongo_url) as dropping:  # retired, then dropped later
        names = dropping[settings.mongo_database].list_collection_names
        eventually(lambda: f"users_g{number}" not in names(), timeout_s=20)


def test_dry_runs_are_refused_clearly(client: TestClient, admin: Key, user: Key) -> None:
    headers = bearer(admin[1])
    assert client.post("/v1/admin/projections/nothing/scratch", headers=headers).status_code == 404
    assert client.delete("/v1/admin/projections/users/scratch", headers=headers).status_code == 404
    assert refused(client, admin, "/projections/users/scratch", 404).endswith("start one with POST")
    forbidden = client.post("/v1/admin/projections/users/scratch", headers=bearer(user[1]))
    assert forbidden.status_code == 403
    assert refused(client, admin, "/projections/users/scratch", 422, samples=-1).startswith(
        "query.samples"
    )


def test_event_types_are_listed_with_their_category_and_fields(
    client: TestClient, admin: Key, user: Key
) -> None:
    types = {item["type"]: item for item in get(client, admin, "/event-types")}
    tick = types["price.tick"]
    assert tick["category"] == "ticks"
    assert {"symbol", "venue", "price"} <= set(tick["fields"])
    assert tick["schema_version"] >= 1
    assert tick["description"]
    assert types["alert.triggered"]["category"] == "alerts"
    assert types["conversation.replied"]["category"] is None  # an aggregate's event
    assert list(types) == sorted(types)
    assert refused(client, user, "/event-types", 403).endswith("with the 'admin' scope")


async def test_events_are_filtered_by_key(
    store: EventStore, client: TestClient, admin: Key
) -> None:
    await store.append_batch("pings", [ping(n, key=f"k{n % 3}") for n in range(9)])

    def keyed_as(key: str) -> list[dict[str, Any]]:
        params = {"category": "pings", "key": key}
        response = client.get("/v1/admin/events", headers=bearer(admin[1]), params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    keyed = keyed_as("k1")
    assert [e["payload"]["n"] for e in keyed] == [1, 4, 7]
    assert {e["key"] for e in keyed} == {"k1"}
    assert keyed_as("nobody") == []
