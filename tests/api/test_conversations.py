"""Conversations over HTTP: posting messages once, listing threads, reading transcripts."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from aggregates.conversation import conversation_id
from aggregates.services.bundle import Services
from tests.api.conftest import bearer

Key = tuple[UUID, str]


def post(
    client: TestClient, token: str, thread: str, message_id: str, text: str = "price of ETH"
) -> Any:
    return client.post(
        f"/v1/conversations/threads/{thread}/messages",
        params={"wait": "true"},
        json={"message_id": message_id, "text": text},
        headers=bearer(token),
    )


def test_a_message_is_recorded_once_however_often_it_is_posted(
    client: TestClient, user: Key
) -> None:
    user_id, token = user
    first = post(client, token, "t-1", "m1")
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["id"] == str(conversation_id(user_id, "web", "t-1"))
    assert (receipt["message_id"], receipt["new"], receipt["caught_up"]) == ("m1", True, True)
    again = post(client, token, "t-1", "m1", text="edited on retry")
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["new"]) == (receipt["id"], False)
    messages = client.get(
        f"/v1/conversations/{receipt['id']}/messages", headers=bearer(token)
    ).json()
    assert [(m["role"], m["message_id"], m["text"]) for m in messages["items"]] == [
        ("user", "m1", "price of ETH")
    ]


def test_threads_are_listed_latest_first_with_their_counts(client: TestClient, user: Key) -> None:
    user_id, token = user
    older = post(client, token, "older", "m1").json()["id"]
    newer = post(client, token, "newer", "m1").json()["id"]
    post(client, token, "newer", "m2")
    listed = client.get("/v1/conversations", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["id"] for item in items] == [newer, older]
    assert items[0]["message_count"] == 2
    assert (items[0]["user_id"], items[0]["platform"], items[0]["thread_id"]) == (
        str(user_id),
        "web",
        "newer",
    )
    first = client.get("/v1/conversations", params={"limit": 1}, headers=bearer(token)).json()
    rest = client.get(
        "/v1/conversations", params={"cursor": first["next_cursor"]}, headers=bearer(token)
    ).json()
    assert [item["id"] for item in first["items"] + rest["items"]] == [newer, older]


def test_a_transcript_holds_tool_calls_and_replies_in_order_page_by_page(
    client: TestClient, user: Key, services: Services
) -> None:
    _, token = user
    conv = UUID(post(client, token, "t", "m1", text="alert me on BTC").json()["id"])
    conversations = services.conversations
    conversations.call_tool(
        conv,
        {"call_id": "c1", "in_reply_to": "m1", "tool": "create_rule", "arguments": {"s": "BTC"}},
    )
    conversations.record_tool_result(conv, {"call_id": "c1", "output": {"rule_id": "r"}})
    conversations.reply(conv, {"reply_id": "r1", "in_reply_to": "m1", "text": "Done."})
    receipt = post(client, token, "t", "m2", text="thanks").json()
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "after": receipt["position"]}
        if cursor:
            params["cursor"] = cursor
        response = client.get(
            f"/v1/conversations/{conv}/messages", params=params, headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert [(m["seq"], m["role"], m["text"]) for m in seen] == [
        (2, "user", "alert me on BTC"),
        (3, "tool_call", '{"s":"BTC"}'),
        (4, "tool_result", '{"rule_id":"r"}'),
        (5, "agent", "Done."),
        (6, "user", "thanks"),
    ]
    assert seen[1]["tool"] == "create_rule"
    assert seen[3]["in_reply_to"] == "m1"


def test_another_users_conversation_is_not_found(
    client: TestClient, user: Key, other_user: Key, admin: Key
) -> None:
    conv = post(client, user[1], "private", "m1").json()["id"]
    hidden = client.get(f"/v1/conversations/{conv}/messages", headers=bearer(other_user[1]))
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/conversations", headers=bearer(other_user[1])).json()["items"] == []
    unknown = client.get(f"/v1/conversations/{uuid4()}/messages", headers=bearer(user[1]))
    assert unknown.status_code == 404
    seen_by_admin = client.get(f"/v1/conversations/{conv}/messages", headers=bearer(admin[1]))
    assert seen_by_admin.status_code == 200
    listed_for_user = client.get(
        "/v1/conversations", params={"user_id": str(user[0])}, headers=bearer(admin[1])
    )
    assert [item["id"] for item in listed_for_user.json()["items"]] == [conv]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/conversations/threads/t/messages"),
        ("GET", "/v1/conversations"),
        # A fixed id: every pytest process must collect the same tests.
        ("GET", "/v1/conversations/5f0c8a52-4a8e-4c4e-9d7a-0d6b2f1c3e77/messages"),
    ],
)
def test_every_endpoint_needs_a_user_key(
    client: TestClient, ingester: Key, method: str, path: str
) -> None:
    body = {"message_id": "m", "text": "hi"} if method == "POST" else None
    assert client.request(method, path, json=body).status_code == 401
    assert client.request(method, path, json=body, headers=bearer(ingester[1])).status_code == 403


def test_invalid_messages_are_refused_naming_the_field(client: TestClient, user: Key) -> None:
    _, token = user
    cases = [
        ("t", {"message_id": "m", "text": ""}, "text"),
        ("t", {"message_id": "", "text": "hi"}, "message_id"),
        ("t", {"text": "hi"}, "message_id"),
        ("t", {"message_id": "m", "text": "x" * 20_000}, "text"),
        ("bad%20thread", {"message_id": "m", "text": "hi"}, "thread_id"),
        ("t" * 129, {"message_id": "m", "text": "hi"}, "thread_id"),
    ]
    for thread, body, field in cases:
        response = client.post(
            f"/v1/conversations/threads/{thread}/messages", json=body, headers=bearer(token)
        )
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["detail"]
    bad_id = client.get("/v1/conversations/not-a-uuid/messages", headers=bearer(token))
    assert bad_id.status_code == 422
    assert "conversation_id" in bad_id.json()["detail"]
