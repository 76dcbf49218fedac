"""Alert rules over HTTP: commands with receipts, reads from the read model, refusals."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from impressox.settings import Settings
from tests.aggregates.conftest import rule_spec
from tests.api.conftest import bearer

Key = tuple[UUID, str]


def create(client: TestClient, token: str, **changes: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/rules", params={"wait": "true"}, json=rule_spec(**changes), headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    assert receipt["caught_up"] is True
    return receipt


def test_a_created_rule_can_be_read_at_once_with_wait(
    client: TestClient, user: Key, settings: Settings
) -> None:
    user_id, token = user
    receipt = create(client, token)
    stream, _, position = receipt["position"].partition("@")
    assert stream == f"{settings.stream_prefix}:{{app.alert-rules}}:log"
    assert len(position.split("-")) == 2
    rule = client.get(f"/v1/rules/{receipt['id']}", headers=bearer(token)).json()
    assert rule["owner_id"] == str(user_id)
    assert rule["status"] == "active"
    assert rule["spec"]["target"] == {"kind": "symbol", "symbol": "BTC/USDT", "venue": None}
    assert rule["subjects"] == ["BTC/USDT"]
    assert (rule["trigger_count"], rule["last_triggered_at"]) == (0, None)


def test_a_receipt_position_lets_a_later_read_wait_for_it(client: TestClient, user: Key) -> None:
    _, token = user
    response = client.post("/v1/rules", json=rule_spec(), headers=bearer(token))
    assert response.status_code == 201
    receipt = response.json()
    assert receipt["caught_up"] is None
    read = client.get(
        f"/v1/rules/{receipt['id']}", params={"after": receipt["position"]}, headers=bearer(token)
    )
    assert read.status_code == 200, read.text
    assert read.headers["X-Read-Model-Behind"] == "false"


def test_the_lifecycle_pause_resume_update_delete(client: TestClient, user: Key) -> None:
    _, token = user
    rule_id = create(client, token)["id"]
    wait = {"wait": "true"}

    def status() -> str:
        value: str = client.get(f"/v1/rules/{rule_id}", headers=bearer(token)).json()["status"]
        return value

    paused = client.post(f"/v1/rules/{rule_id}/pause", params=wait, headers=bearer(token))
    assert paused.status_code == 200, paused.text
    assert paused.json()["id"] == rule_id
    assert status() == "paused"
    again = client.post(f"/v1/rules/{rule_id}/pause", headers=bearer(token))
    assert again.status_code == 409
    assert "only an active rule can be paused" in again.json()["detail"]
    assert client.post(f"/v1/rules/{rule_id}/resume", params=wait, headers=bearer(token)).is_success
    assert status() == "active"
    updated = client.put(
        f"/v1/rules/{rule_id}",
        params=wait,
        json=rule_spec(name="renamed", severity="critical"),
        headers=bearer(token),
    )
    assert updated.status_code == 200, updated.text
    rule = client.get(f"/v1/rules/{rule_id}", headers=bearer(token)).json()
    assert (rule["spec"]["name"], rule["spec"]["severity"]) == ("renamed", "critical")
    deleted = client.delete(f"/v1/rules/{rule_id}", params=wait, headers=bearer(token))
    assert deleted.status_code == 200
    assert status() == "deleted"
    assert client.post(f"/v1/rules/{rule_id}/resume", headers=bearer(token)).status_code == 409
    assert client.delete(f"/v1/rules/{rule_id}", headers=bearer(token)).status_code == 409


def test_lists_are_own_filtered_and_paginated(
    client: TestClient, user: Key, other_user: Key
) -> None:
    _, token = user
    ids = [create(client, token, name=f"r{n}")["id"] for n in range(3)]
    posts = create(
        client,
        token,
        target={"kind": "posts", "keyword": "$SOL"},
        condition={"type": "mentioned"},
    )["id"]
    client.post(f"/v1/rules/{ids[0]}/pause", params={"wait": "true"}, headers=bearer(token))
    client.delete(f"/v1/rules/{ids[1]}", params={"wait": "true"}, headers=bearer(token))
    create(client, other_user[1])

    def listed(**params: Any) -> list[str]:
        response = client.get("/v1/rules", params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert listed() == [posts, ids[2], ids[0]]  # newest first; deleted ones left out
    assert listed(status="deleted") == [ids[1]]
    assert listed(status="paused") == [ids[0]]
    assert listed(subject="$SOL") == [posts]
    assert listed(subject="BTC/USDT") == [ids[2], ids[0]]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/rules", params=params, headers=bearer(token)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [posts, ids[2], ids[0]]


def test_an_admin_acts_for_a_user_and_a_user_cannot(
    client: TestClient, admin: Key, user: Key, other_user: Key
) -> None:
    user_id, token = user
    response = client.post(
        "/v1/rules",
        params={"user_id": str(user_id), "wait": "true"},
        json=rule_spec(),
        headers=bearer(admin[1]),
    )
    assert response.status_code == 201, response.text
    rule_id = response.json()["id"]
    assert client.get(f"/v1/rules/{rule_id}", headers=bearer(token)).json()["owner_id"] == str(
        user_id
    )
    assert client.get(f"/v1/rules/{rule_id}", headers=bearer(admin[1])).status_code == 200
    listed = client.get("/v1/rules", params={"user_id": str(user_id)}, headers=bearer(admin[1]))
    assert [item["id"] for item in listed.json()["items"]] == [rule_id]
    refused = client.get("/v1/rules", params={"user_id": str(other_user[0])}, headers=bearer(token))
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]


def test_another_users_rule_is_not_found(client: TestClient, user: Key, other_user: Key) -> None:
    rule_id = create(client, user[1])["id"]
    token = other_user[1]
    for method, path in [
        ("GET", f"/v1/rules/{rule_id}"),
        ("PUT", f"/v1/rules/{rule_id}"),
        ("POST", f"/v1/rules/{rule_id}/pause"),
        ("POST", f"/v1/rules/{rule_id}/resume"),
        ("DELETE", f"/v1/rules/{rule_id}"),
    ]:
        body = rule_spec() if method == "PUT" else None
        response = client.request(method, path, json=body, headers=bearer(token))
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/rules", headers=bearer(token)).json()["items"] == []
    unknown = client.post(f"/v1/rules/{uuid4()}/pause", headers=bearer(user[1]))
    assert unknown.status_code == 404


SOME_RULE = "5f0c8a52-4a8e-4c4e-9d7a-0d6b2f1c3e77"
"""A rule id no test creates: fixed, so that every pytest process collects the same tests."""

ENDPOINTS = [
    ("GET", "/v1/rules"),
    ("POST", "/v1/rules"),
    ("GET", f"/v1/rules/{SOME_RULE}"),
    ("PUT", f"/v1/rules/{SOME_RULE}"),
    ("POST", f"/v1/rules/{SOME_RULE}/pause"),
    ("POST", f"/v1/rules/{SOME_RULE}/resume"),
    ("DELETE", f"/v1/rules/{SOME_RULE}"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_user_key(
    client: TestClient, ingester: Key, method: str, path: str
) -> None:
    body = rule_spec() if method in ("POST", "PUT") else None
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    ingest_only = client.request(method, path, json=body, headers=bearer(ingester[1]))
    assert ingest_only.status_code == 403
    assert "'user' scope" in ingest_only.json()["detail"]


def test_invalid_specs_are_refused_naming_the_field(client: TestClient, user: Key) -> None:
    _, token = user
    cases = [
        (rule_spec(condition={"type": "above", "threshold": "high"}), "threshold"),
        (rule_spec(condition={"type": "mentioned"}), "condition"),
        (rule_spec(channels=[]), "channels"),
        (rule_spec(channels=["Not An Id"]), "channels.0"),
        (rule_spec(expires_at="2026-12-31T00:00:00"), "expires_at"),
        (rule_spec(target={"kind": "symbol", "symbol": "btc"}), "symbol"),
        (rule_spec(message_template="{nope}"), "message_template"),
        ({**rule_spec(), "surprise": 1}, "surprise"),
    ]
    for spec, field in cases:
        response = client.post("/v1/rules", json=spec, headers=bearer(token))
        assert response.status_code == 422, (spec, response.text)
        problem = response.json()
        assert problem["title"] == "Invalid request"
        assert field in problem["detail"], (field, problem)
        assert problem["errors"][0]["field"].startswith("body.")
    assert client.get("/v1/rules", headers=bearer(token)).json()["items"] == []


def test_a_template_rendering_megabytes_is_refused(client: TestClient, user: Key) -> None:
    """Issue 13: this template was accepted and its rule fired a 20 MB alert."""
    _, token = user
    spec = rule_spec(message_template="{price:>20000000}")
    response = client.post("/v1/rules", json=spec, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "message_template", "message": "{price}: a width of at most 64, not 20000000"}
    ]
    assert client.get("/v1/rules", headers=bearer(token)).json()["items"] == []


def test_bad_ids_and_options_are_refused(client: TestClient, user: Key, settings: Settings) -> None:
    _, token = user
    bad_id = client.get("/v1/rules/not-a-uuid", headers=bearer(token))
    assert bad_id.status_code == 422
    assert "rule_id" in bad_id.json()["detail"]
    too_long = client.post(
        "/v1/rules",
        params={"wait": "true", "wait_s": settings.max_wait_s + 1},
        json=rule_spec(),
        headers=bearer(token),
    )
    assert too_long.status_code == 422
    assert "wait_s" in too_long.json()["detail"]
    assert client.get("/v1/rules", params={"status": "gone"}, headers=bearer(token)).is_error
    assert client.get("/v1/rules", params={"cursor": "junk"}, headers=bearer(token)).is_error
    created = create(client, token)["id"]  # waits: the refused one would be listed before it
    listed = client.get("/v1/rules", headers=bearer(token)).json()["items"]
    assert [item["id"] for item in listed] == [created]


def test_a_wrong_method_names_every_allowed_one(client: TestClient, user: Key) -> None:
    response = client.request("PATCH", "/v1/rules", headers=bearer(user[1]))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Allow"] == "GET, POST"
