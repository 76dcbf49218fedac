"""Deleting a user: their keys refused at once (REST and open sockets), their rules
deleted, their chats unlinked, every later command refused; bad requests refused."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID, uuid4

import httpx
from fastapi.testclient import TestClient

from aggregates.services.bundle import Services
from aggregates.watch import watch_id
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.settings import Settings
from rules.rule_book import RuleBook
from tests.api.conftest import bearer
from tests.api.live_server import LiveServer
from tests.api.test_rules import create
from tests.api.test_websocket import client, closed_code, subscribe
from tests.api.test_websocket_revocation import AUTH_CACHE_S, issued

Key = tuple[UUID, str]
PROBLEM = "application/problem+json"


def test_a_user_deletes_their_account(
    *, client: TestClient, user: Key, admin: Key, services: Services, settings: Settings,
    redis_url: str,
) -> None:  # fmt: skip
    user_id, token = user
    kept_rule = create(client, admin[1])["id"]
    rule_id = create(client, token)["id"]
    paused_id = create(client, token, name="paused")["id"]
    assert client.post(f"/v1/rules/{paused_id}/pause", headers=bearer(token)).status_code == 200
    services.users.link_identity(user_id, {"platform": "telegram", "external_id": "4242"})
    services.users.add_channel(
        user_id, {"channel_id": "tg", "channel": {"kind": "telegram", "chat_id": 4242}}
    )

    services.watches.follow_keyword(user_id, "sol")
    services.watches.follow_account(user_id, "x", "whale")

    response = client.delete("/v1/me", params={"wait": "true"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["id"], receipt["caught_up"]) == (str(user_id), True)
    assert (receipt["already_deleted"], receipt["rules_deleted"]) == (False, 2)
    assert receipt["rules_settled"] is True

    # The key is refused at once, on every route.
    assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    assert client.get("/v1/rules", headers=bearer(token)).status_code == 401
    # Its rules are deleted through their aggregates: the rule book drops them.
    for rule in (rule_id, paused_id):
        assert services.alert_rules.load(UUID(rule)).status == "deleted"
    book = asyncio.run(rules_in_a_new_book(settings, redis_url, services))
    assert kept_rule in book
    assert not {rule_id, paused_id} & book  # no engine holds them: they cannot fire
    # Its watches are emptied: the sources no longer fetch for it.
    watch = services.watches.load(watch_id(user_id))
    assert (watch.keywords, watch.accounts, watch.wallets) == ([], [], {})
    # Its chats are unlinked: the read model (the bots' directory) no longer names them.
    _, admin_token = admin
    channels = client.get(
        "/v1/channels", params={"user_id": str(user_id)}, headers=bearer(admin_token)
    )
    assert channels.json() == [{"channel_id": "web", "kind": "web"}]
    # Any later command on the user is a 404 saying why.
    refused = client.put(
        "/v1/me",
        params={"user_id": str(user_id)},
        json={"display_name": "back"},
        headers=bearer(admin_token),
    )
    assert refused.status_code == 404
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"] == f"user {user_id} was deleted"
    issue = client.post(
        "/v1/keys",
        params={"user_id": str(user_id)},
        json={"name": "again"},
        headers=bearer(admin_token),
    )
    assert issue.status_code == 404
    # Nor may an admin refill what the user's aggregate does not guard: their watch list,
    # conversations and memory; reading what is kept still works.
    for method, path, body in (
        ("POST", "/v1/watches/keywords", {"keyword": "eth"}),
        ("DELETE", "/v1/watches/keywords/sol", None),
        ("POST", "/v1/conversations/threads/t/messages", {"message_id": "m1", "text": "hi"}),
        ("DELETE", "/v1/memory/f1", None),
    ):
        acting = client.request(
            method, path, params={"user_id": str(user_id)}, json=body, headers=bearer(admin_token)
        )
        assert acting.status_code == 404, (path, acting.text)
        assert acting.json()["detail"] == f"user {user_id} was deleted"
    listed = client.get(
        "/v1/watches", params={"user_id": str(user_id)}, headers=bearer(admin_token)
    )
    assert listed.status_code == 200
    # Deleting again records nothing and says so.
    events = len(services.users.history(user_id))
    again = client.delete(f"/v1/users/{user_id}", headers=bearer(admin_token))
    assert again.status_code == 200, again.text
    assert (again.json()["already_deleted"], again.json()["rules_deleted"]) == (True, 0)
    assert len(services.users.history(user_id)) == events


async def rules_in_a_new_book(settings: Settings, redis_url: str, services: Services) -> set[str]:
    """The rules a `rules` process starting now would evaluate (from the rules' log)."""
    redis = await connect_redis(redis_url)
    book = RuleBook(
        EventStore(redis, settings.stream_names()), services.alert_rules, settings.rules_snapshot_s
    )
    try:
        await book.ready()
        return {str(rule_id) for rule_id in book.rules}
    finally:
        await book.close()
        await redis.aclose()


def test_an_admin_deletes_a_user_and_bad_requests_are_refused(
    client: TestClient, user: Key, other_user: Key, admin: Key
) -> None:
    user_id, token = user
    other_id, other_token = other_user
    _, admin_token = admin

    forbidden = client.delete(f"/v1/users/{other_id}", headers=bearer(token))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == PROBLEM
    acting = client.delete("/v1/me", params={"user_id": str(other_id)}, headers=bearer(token))
    assert acting.status_code == 403
    assert client.delete(f"/v1/users/{other_id}").status_code == 401
    unknown = client.delete(f"/v1/users/{uuid4()}", headers=bearer(admin_token))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert client.delete("/v1/users/nope", headers=bearer(admin_token)).status_code == 422
    nobody = client.post(
        "/v1/watches/keywords",
        params={"user_id": str(uuid4())},
        json={"keyword": "eth"},
        headers=bearer(admin_token),
    )
    assert nobody.status_code == 404  # no watch list is started for a user that never was
    # None of that deleted anyone.
    assert client.get("/v1/me", headers=bearer(other_token)).status_code == 200

    deleted = client.delete(
        f"/v1/users/{user_id}", params={"wait": "true"}, headers=bearer(admin_token)
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["already_deleted"] is False
    assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    assert client.get("/v1/me", headers=bearer(other_token)).status_code == 200


SETTINGS = {"auth_cache_s": AUTH_CACHE_S}
"""Far longer than the test waits: what closes the socket is the deletion's events."""


async def test_deleting_a_user_closes_their_sockets_like_a_revocation(
    live: LiveServer, services: Services
) -> None:
    user_id, _, token = await issued(services, live)
    second = services.users.issue_api_key(user_id, {"name": "phone"}).token
    async with client(live.url, token) as first_socket, client(live.url, second) as other:
        await subscribe(first_socket, "alerts")
        await subscribe(other, "alerts")
        deleted_at = time.monotonic()
        async with httpx.AsyncClient(base_url=live.http_url) as rest:
            response = await rest.delete("/v1/me", headers=bearer(token))
            assert response.status_code == 200, response.text
            for socket in (first_socket, other):
                code, reason = await closed_code(socket)
                assert (code, reason) == (4401, "the API key was revoked")
            assert time.monotonic() - deleted_at < AUTH_CACHE_S / 10
            for key in (token, second):
                assert (await rest.get("/v1/me", headers=bearer(key))).status_code == 401
