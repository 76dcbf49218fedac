"""Rate limits: per key and per user together, a cap on keys, and per address without one.

Issue 13: a user minted 30 keys with no cap, each with a bucket of its own, and nothing
limited requests without a valid key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
import redis as sync_redis
from fastapi.testclient import TestClient

from aggregates.services.bundle import Services
from api.key_table import USERS_TAG
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.api.conftest import bearer
from tests.readside import eventually, isolated_settings

KEY_BURST = 5
USER_BURST = 8
ANONYMOUS_BURST = 5
MAX_KEYS = 3


@pytest.fixture
def settings(prefix: str, tmp_path: Path) -> Settings:
    """Bursts small enough to exhaust, refilled too slowly to matter within a test."""
    return isolated_settings(
        prefix,
        tmp_path,
        rate_limit_per_minute=1,
        rate_limit_burst=KEY_BURST,
        user_rate_limit_per_minute=1,
        user_rate_limit_burst=USER_BURST,
        anonymous_rate_limit_per_minute=1,
        anonymous_rate_limit_burst=ANONYMOUS_BURST,
        max_api_keys_per_user=MAX_KEYS,
    )


@pytest.fixture
def api(settings: Settings, redis_url: str, mongo_url: str) -> Iterator[TestClient]:
    """The API alone: no read model is needed to authenticate."""
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        yield client


def usable(settings: Settings, redis_url: str, key_id: str) -> None:
    """Wait until the API's key table holds the key, without spending a request on it."""
    table = settings.stream_names().api_keys(USERS_TAG)
    with sync_redis.Redis.from_url(redis_url) as redis:
        eventually(lambda: redis.hexists(table, key_id))


def new_key(services: Services, user_id: UUID, settings: Settings, redis_url: str) -> str:
    issued = services.users.issue_api_key(user_id, {"name": "k"})
    usable(settings, redis_url, issued.key_id)
    return issued.token


def me(client: TestClient, token: str) -> int:
    return client.get("/v1/me", headers=bearer(token)).status_code


def test_a_users_keys_share_one_budget(
    api: TestClient, services: Services, settings: Settings, redis_url: str
) -> None:
    user_id = services.users.register("Ada")
    first = new_key(services, user_id, settings, redis_url)
    second = new_key(services, user_id, settings, redis_url)
    assert [me(api, first) for _ in range(KEY_BURST)] == [200] * KEY_BURST
    over_key = api.get("/v1/me", headers=bearer(first))
    left = USER_BURST - KEY_BURST
    assert [me(api, second) for _ in range(left)] == [200] * left
    over_user = api.get("/v1/me", headers=bearer(second))
    assert (over_key.status_code, over_user.status_code) == (429, 429), "a key bought more"
    assert "this key's limit" in over_key.json()["detail"]
    assert "all of a user's keys together" in over_user.json()["detail"]
    assert int(over_user.headers["retry-after"]) > 0


def test_a_user_holds_at_most_the_configured_number_of_keys(
    services: Services, prefix: str, tmp_path: Path, redis_url: str, mongo_url: str
) -> None:
    settings = isolated_settings(prefix, tmp_path, max_api_keys_per_user=MAX_KEYS)
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as api:
        token = new_key(services, services.users.register("Ada"), settings, redis_url)
        issue_until_refused(api, token)


def issue_until_refused(api: TestClient, token: str) -> None:
    for _ in range(MAX_KEYS - 1):
        assert api.post("/v1/keys", json={"name": "more"}, headers=bearer(token)).status_code == 201
    refused = api.post("/v1/keys", json={"name": "one too many"}, headers=bearer(token))
    assert refused.status_code == 409, refused.text
    assert f"at most {MAX_KEYS} active API keys" in refused.json()["detail"]
    listed = api.get("/v1/keys", headers=bearer(token)).json()
    assert len(listed) == MAX_KEYS
    spare = next(key["key_id"] for key in listed if key["name"] == "more")
    assert api.delete(f"/v1/keys/{spare}", headers=bearer(token)).status_code == 200
    assert api.post("/v1/keys", json={"name": "again"}, headers=bearer(token)).status_code == 201


def test_requests_without_a_valid_key_are_limited_per_address(
    api: TestClient, services: Services, settings: Settings, redis_url: str
) -> None:
    guesses = [
        {},
        bearer("ixk_0123456789abcdef_guess"),
        {"Authorization": "Basic YWRhOmFkYQ=="},
        bearer("not a key"),
        {},
    ]
    assert [api.get("/v1/me", headers=h).status_code for h in guesses] == [401] * ANONYMOUS_BURST
    refused = api.get("/v1/rules", headers=bearer("ixk_0123456789abcdef_again"))
    assert refused.status_code == 429
    assert "without a valid API key" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    token = new_key(services, services.users.register("Ada"), settings, redis_url)
    assert me(api, token) == 200  # a valid key from the same address is not held back
