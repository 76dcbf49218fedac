"""The account over HTTP: profile, channels, quiet hours, watches and API keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from aggregates.services.bundle import Services
from impressox.settings import Settings
from projections.generations import Generation
from projections.model import Document
from tests.api.conftest import bearer
from tests.polling import eventually

Key = tuple[UUID, str]
WAIT = {"wait": "true"}
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_me_shows_the_key_and_the_profile(client: TestClient, user: Key) -> None:
    user_id, token = user

    def profile() -> Any:
        found = get(client, token, "/v1/me")
        return found if found["display_name"] else None  # the users read model caught up

    me = eventually(profile)
    assert me["user_id"] == str(user_id)
    assert me["scopes"] == ["user"]
    assert me["display_name"] == "user user"
    assert me["channels"] == [{"channel_id": "web", "kind": "web"}]
    assert me["identities"] == []
    renamed = client.put("/v1/me", params=WAIT, json={"display_name": "Ada"}, headers=bearer(token))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["id"] == str(user_id)
    assert get(client, token, "/v1/me")["display_name"] == "Ada"
    assert client.put("/v1/me", json={"display_name": ""}, headers=bearer(token)).status_code == 422


def test_me_answers_when_the_profile_is_not_projected_yet(
    client: TestClient, user: Key, settings: Settings, mongo_url: str
) -> None:
    user_id, token = user
    with MongoClient[Document](mongo_url) as mongo:
        profiles = mongo[settings.mongo_database][Generation("users", 1).collection]
        eventually(lambda: profiles.find_one({"_id": str(user_id)}))
        assert profiles.delete_one({"_id": str(user_id)}).deleted_count == 1
    me = get(client, token, "/v1/me")
    assert (me["user_id"], me["scopes"]) == (str(user_id), ["user"])
    assert (me["identities"], me["channels"]) == ([], [])
    assert me["display_name"] is None


def test_channels_show_no_secret_and_a_webhook_secret_once(client: TestClient, user: Key) -> None:
    _, token = user
    telegram = client.post(
        "/v1/channels",
        params=WAIT,
        json={"channel_id": "tg", "channel": {"kind": "telegram", "chat_id": -1001}},
        headers=bearer(token),
    )
    assert telegram.status_code == 201, telegram.text
    assert (telegram.json()["id"], telegram.json()["signing_secret"]) == ("tg", None)
    hook = client.post(
        "/v1/channels",
        params=WAIT,
        json={"channel_id": "hook", "channel": {"kind": "webhook", "url": "https://x.test/h"}},
        headers=bearer(token),
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["signing_secret"]
    assert secret
    discord_url = "https://discord.com/api/webhooks/1/very-secret-token"
    client.post(
        "/v1/channels",
        params=WAIT,
        json={"channel_id": "dw", "channel": {"kind": "discord_webhook", "url": discord_url}},
        headers=bearer(token),
    )
    channels = client.get("/v1/channels", headers=bearer(token))
    assert channels.json() == [
        {"channel_id": "dw", "kind": "discord_webhook"},
        {"channel_id": "hook", "kind": "webhook", "url": "https://x.test/h"},
        {"channel_id": "tg", "kind": "telegram", "chat_id": -1001},
        {"channel_id": "web", "kind": "web"},
    ]
    me = client.get("/v1/me", headers=bearer(token))
    for text in (channels.text, me.text):
        assert secret not in text
        assert "very-secret-token" not in text
    removed = client.delete("/v1/channels/tg", params=WAIT, headers=bearer(token))
    assert removed.status_code == 200, removed.text
    assert [c["channel_id"] for c in get(client, token, "/v1/channels")] == ["dw", "hook", "web"]


def test_webhooks_to_internal_addresses_are_refused(
    client: TestClient, user: Key, redis_url: str, mongo_url: str
) -> None:
    """Issue 13: these were all accepted, and the server then called them."""
    _, token = user
    redis_port, mongo_port = urlsplit(redis_url).port, urlsplit(mongo_url).port
    urls = [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://[fd00:ec2::254]/",
        f"http://127.0.0.1:{redis_port}/",
        f"http://localhost:{mongo_port}/",
        "http://[::1]:8000/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://localhost./",
    ]
    for url in urls:
        response = client.post(
            "/v1/channels",
            json={"channel_id": "hook", "channel": {"kind": "webhook", "url": url}},
            headers=bearer(token),
        )
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == [
            {"field": "channel.url", "message": "the host is not a public address"}
        ]
    assert [c["channel_id"] for c in get(client, token, "/v1/channels")] == ["web"]


def test_webhooks_with_a_port_no_connection_can_use_are_refused(
    client: TestClient, user: Key
) -> None:
    """Issue 13: ``:99999`` and ``:abc`` answered 500, and ``https://8.8.8.8:99999/`` was
    stored, to fail later as an unknown error when sending."""
    _, token = user
    for url in (
        "https://example.com:99999/hook",
        "https://example.com:abc/hook",
        "https://8.8.8.8:99999/",
        "https://8.8.8.8:0/",
    ):
        response = client.post(
            "/v1/channels",
            json={"channel_id": "hook", "channel": {"kind": "webhook", "url": url}},
            headers=bearer(token),
        )
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        (error,) = response.json()["errors"]
        assert error["field"].endswith("url"), error
        assert "port" in error["message"], error
    assert [c["channel_id"] for c in get(client, token, "/v1/channels")] == ["web"]


def test_channel_refusals(client: TestClient, user: Key) -> None:
    _, token = user

    def add(body: dict[str, Any]) -> Any:
        return client.post("/v1/channels", json=body, headers=bearer(token))

    cases = [
        ({"channel_id": "x", "channel": {"kind": "sms", "number": "1"}}, "channel"),
        ({"channel_id": "Bad Id", "channel": {"kind": "telegram", "chat_id": 1}}, "channel_id"),
        ({"channel_id": "h", "channel": {"kind": "webhook", "url": "http://x.test"}}, "url"),
        ({"channel_id": "t", "channel": {"kind": "telegram", "chat_id": 2**70}}, "chat_id"),
        ({"channel_id": "d", "channel": {"kind": "discord_webhook", "url": "https://x"}}, "url"),
    ]
    for body, field in cases:
        response = add(body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["detail"], response.json()
    telegram = {"channel_id": "tg", "channel": {"kind": "telegram", "chat_id": 1}}
    assert add(telegram).status_code == 201
    twice = add(telegram)
    assert twice.status_code == 409
    assert "exists already" in twice.json()["detail"]
    web = client.delete("/v1/channels/web", headers=bearer(token))
    assert web.status_code == 409
    assert "cannot be removed" in web.json()["detail"]
    assert client.delete("/v1/channels/nope", headers=bearer(token)).status_code == 404
    assert client.delete("/v1/channels/Not_Valid", headers=bearer(token)).status_code == 422


def test_quiet_hours_are_set_and_cleared(client: TestClient, user: Key) -> None:
    _, token = user
    hours = {"start": "22:00", "end": "07:30", "timezone": "Europe/Paris"}
    put = client.put("/v1/me/quiet-hours", params=WAIT, json=hours, headers=bearer(token))
    assert put.status_code == 200, put.text
    assert get(client, token, "/v1/me")["quiet_hours"] == {
        "start": "22:00:00",
        "end": "07:30:00",
        "timezone": "Europe/Paris",
    }
    cleared = client.delete("/v1/me/quiet-hours", params=WAIT, headers=bearer(token))
    assert cleared.status_code == 200
    assert get(client, token, "/v1/me")["quiet_hours"] is None
    for bad, field in [
        ({**hours, "timezone": "Mars/Base"}, "timezone"),
        ({**hours, "timezone": "a" * 300}, "timezone"),
        ({**hours, "end": "22:00"}, "end"),
        ({**hours, "start": "25:00"}, "start"),
    ]:
        refused = client.put("/v1/me/quiet-hours", json=bad, headers=bearer(token))
        assert refused.status_code == 422, (bad, refused.text)
        assert field in refused.json()["detail"]


def test_watches_follow_and_unfollow(client: TestClient, user: Key) -> None:
    _, token = user
    assert get(client, token, "/v1/watches") == {"wallets": [], "accounts": [], "keywords": []}
    wallet = client.post(
        "/v1/watches/wallets",
        params=WAIT,
        json={"address": WALLET.lower(), "label": "cold"},
        headers=bearer(token),
    )
    assert wallet.status_code == 201, wallet.text
    assert wallet.json()["id"] == WALLET
    # Nothing watches a chain in this test: the receipt says so (issue 12).
    assert wallet.json()["chain_watched"] is False
    assert wallet.json()["detail"].startswith("No chain watcher runs")
    account = client.post(
        "/v1/watches/accounts",
        params=WAIT,
        json={"platform": "rss", "handle": "https://blog.test/feed.xml"},
        headers=bearer(token),
    )
    assert account.status_code == 201, account.text
    keyword = client.post(
        "/v1/watches/keywords", params=WAIT, json={"keyword": "$SOL"}, headers=bearer(token)
    )
    assert keyword.status_code == 201, keyword.text
    assert get(client, token, "/v1/watches") == {
        "wallets": [{"address": WALLET, "ens": None, "label": "cold"}],
        "accounts": [{"platform": "rss", "handle": "https://blog.test/feed.xml"}],
        "keywords": ["$sol"],
    }
    for path in (
        f"/v1/watches/wallets/{WALLET}",
        "/v1/watches/accounts/rss/https://blog.test/feed.xml",
        "/v1/watches/keywords/$SOL",
    ):
        response = client.delete(path, params=WAIT, headers=bearer(token))
        assert response.status_code == 200, (path, response.text)
    assert get(client, token, "/v1/watches") == {"wallets": [], "accounts": [], "keywords": []}
    gone = client.delete("/v1/watches/keywords/eth", headers=bearer(token))
    assert gone.status_code == 404
    assert "not followed" in gone.json()["detail"]


def test_watch_refusals_name_the_field(client: TestClient, user: Key) -> None:
    _, token = user
    cases = [
        ("/v1/watches/wallets", {"address": "0x123"}, "address"),
        ("/v1/watches/wallets", {"address": WALLET, "ens": "not ens"}, "ens"),
        ("/v1/watches/accounts", {"platform": "myspace", "handle": "a"}, "platform"),
        ("/v1/watches/keywords", {"keyword": "no/slashes"}, "keyword"),
    ]
    for path, body, field in cases:
        response = client.post(path, json=body, headers=bearer(token))
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["detail"]
    bad_address = client.delete("/v1/watches/wallets/0xnope", headers=bearer(token))
    assert bad_address.status_code == 422
    assert "address" in bad_address.json()["detail"]


def test_keys_are_issued_once_listed_without_hashes_and_revoked(
    client: TestClient, user: Key
) -> None:
    _, token = user
    issued = client.post("/v1/keys", params=WAIT, json={"name": "laptop"}, headers=bearer(token))
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["scopes"], body["caught_up"]) == (["user"], True)
    new_token = body["token"]
    assert client.get("/v1/me", headers=bearer(new_token)).json()["key_id"] == body["id"]
    keys = client.get("/v1/keys", headers=bearer(token))
    assert keys.status_code == 200
    assert [k["name"] for k in keys.json()] == ["user", "laptop"]
    assert "hash" not in keys.text
    assert new_token not in keys.text
    revoked = client.delete(f"/v1/keys/{body['id']}", params=WAIT, headers=bearer(token))
    assert revoked.status_code == 200, revoked.text
    assert client.get("/v1/me", headers=bearer(new_token)).status_code == 401
    assert get(client, token, "/v1/keys")[1]["revoked_at"] is not None
    assert client.delete("/v1/keys/0123456789abcdef", headers=bearer(token)).status_code == 404
    assert client.delete("/v1/keys/not-a-key", headers=bearer(token)).status_code == 422


def test_only_admins_grant_admin_or_ingest(client: TestClient, user: Key, admin: Key) -> None:
    user_id, token = user
    for scopes in (["admin"], ["ingest"], ["user", "ingest"]):
        refused = client.post(
            "/v1/keys", json={"name": "x", "scopes": scopes}, headers=bearer(token)
        )
        assert refused.status_code == 403, refused.text
        assert "only an admin key" in refused.json()["detail"]
    unknown = client.post("/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=bearer(token))
    assert unknown.status_code == 422
    granted = client.post(
        "/v1/keys",
        params={"user_id": str(user_id), **WAIT},
        json={"name": "feed", "scopes": ["ingest"]},
        headers=bearer(admin[1]),
    )
    assert granted.status_code == 201, granted.text
    ingest_token = granted.json()["token"]
    me = get(client, ingest_token, "/v1/me")
    assert (me["user_id"], me["scopes"]) == (str(user_id), ["ingest"])
    listed = get(client, admin[1], "/v1/keys", user_id=str(user_id))
    assert [k["name"] for k in listed] == ["user", "feed"]
    nobody = client.get("/v1/keys", params={"user_id": str(uuid4())}, headers=bearer(admin[1]))
    assert nobody.status_code == 404


def test_admins_act_for_users_and_users_do_not(
    client: TestClient, user: Key, other_user: Key, admin: Key
) -> None:
    user_id, token = user
    renamed = client.put(
        "/v1/me",
        params={"user_id": str(user_id), **WAIT},
        json={"display_name": "Renamed by admin"},
        headers=bearer(admin[1]),
    )
    assert renamed.status_code == 200, renamed.text
    assert get(client, token, "/v1/me")["display_name"] == "Renamed by admin"
    channels = get(client, admin[1], "/v1/channels", user_id=str(user_id))
    assert [c["channel_id"] for c in channels] == ["web"]
    for method, path in [("GET", "/v1/channels"), ("GET", "/v1/keys"), ("GET", "/v1/watches")]:
        response = client.request(
            method, path, params={"user_id": str(other_user[0])}, headers=bearer(token)
        )
        assert response.status_code == 403, (path, response.text)


ENDPOINTS = [
    ("PUT", "/v1/me", {"display_name": "x"}),
    ("PUT", "/v1/me/quiet-hours", {"start": "22:00", "end": "07:00"}),
    ("DELETE", "/v1/me/quiet-hours", None),
    ("GET", "/v1/channels", None),
    ("POST", "/v1/channels", {"channel_id": "tg", "channel": {"kind": "telegram", "chat_id": 1}}),
    ("DELETE", "/v1/channels/tg", None),
    ("GET", "/v1/watches", None),
    ("POST", "/v1/watches/wallets", {"address": WALLET}),
    ("DELETE", f"/v1/watches/wallets/{WALLET}", None),
    ("POST", "/v1/watches/accounts", {"platform": "x", "handle": "a"}),
    ("DELETE", "/v1/watches/accounts/x/a", None),
    ("POST", "/v1/watches/keywords", {"keyword": "eth"}),
    ("DELETE", "/v1/watches/keywords/eth", None),
    ("GET", "/v1/keys", None),
    ("POST", "/v1/keys", {"name": "k"}),
    ("DELETE", "/v1/keys/0123456789abcdef", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_a_user_key(
    client: TestClient, ingester: Key, method: str, path: str, body: Any
) -> None:
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401
    ingest_only = client.request(method, path, json=body, headers=bearer(ingester[1]))
    assert ingest_only.status_code == 403, ingest_only.text


def test_me_needs_a_key_of_any_scope(client: TestClient, ingester: Key) -> None:
    assert client.get("/v1/me").status_code == 401
    assert client.get("/v1/me", headers=bearer("ixk_0123456789abcdef_nope")).status_code == 401
    assert get(client, ingester[1], "/v1/me")["scopes"] == ["ingest"]


def test_a_link_code_is_shown_once_and_redeemed_once(
    client: TestClient, user: Key, services: Services
) -> None:
    user_id, token = user
    response = client.post("/v1/link-codes", headers=bearer(token))
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    assert len(code) == 8
    assert datetime.fromisoformat(response.json()["expires_at"]) > datetime.now(UTC)
    assert services.users.redeem_link_code(code.lower()) == user_id  # typed loosely
    assert services.users.redeem_link_code(code) is None  # single use
    assert services.users.redeem_link_code("NOTACODE") is None
    assert client.post("/v1/link-codes").status_code == 401
