"""What the agent remembers, over HTTP: a user lists it and makes it forget, and sees only
their own."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from aggregates.services.bundle import Services
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.polling import eventually
from tests.readside import ProjectorThread, issue_key


@pytest.fixture
def client(
    settings: Settings, redis_url: str, mongo_url: str, redis: Redis
) -> Iterator[TestClient]:
    """After `redis`: the projector stops before the test's keys are removed."""
    projector = ProjectorThread(settings, redis_url, mongo_url, names=["api_keys"]).start()
    try:
        app = create_app(settings, redis_url=redis_url, mongo_url=mongo_url)
        with TestClient(app) as test_client:
            yield test_client
    finally:
        projector.stop()


def user(
    client: TestClient, services: Services, scope: str = "user"
) -> tuple[UUID, dict[str, str]]:
    """A user with a key the API accepts: (user id, headers)."""
    user_id, token = issue_key(services, scope)
    headers = {"Authorization": f"Bearer {token}"}
    eventually(lambda: client.get("/v1/memory", headers=headers).status_code == 200)
    return user_id, headers


def test_a_user_sees_what_is_remembered_and_makes_it_forget(
    client: TestClient, services: Services
) -> None:
    ana, headers = user(client, services)
    assert client.get("/v1/memory", headers=headers).json() == {"facts": []}
    conversation = uuid4()
    eth = services.memory.remember(
        ana, "I hold 2 ETH", conversation_id=conversation, message_id="m1"
    ).fact
    services.memory.remember(ana, "I trade on Binance")
    facts = client.get("/v1/memory", headers=headers).json()["facts"]
    assert [(f["text"], f["subject"]) for f in facts] == [
        ("I hold 2 ETH", "holding"),
        ("I trade on Binance", "venue"),
    ]
    assert facts[0]["id"] == eth.fact_id
    assert facts[0]["fields"] == {"asset": "ETH", "amount": 2.0}
    assert facts[0]["source"] == {"conversation_id": str(conversation), "message_id": "m1"}
    assert facts[1]["source"] is None

    # Another user neither sees nor deletes them.
    _, others = user(client, services)
    assert client.get("/v1/memory", headers=others).json() == {"facts": []}
    refused = client.delete(f"/v1/memory/{eth.fact_id}", headers=others)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"

    deleted = client.delete(f"/v1/memory/{eth.fact_id}", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["id"] == eth.fact_id
    remaining = client.get("/v1/memory", headers=headers).json()["facts"]
    assert [f["text"] for f in remaining] == ["I trade on Binance"]
    again = client.delete(f"/v1/memory/{eth.fact_id}", headers=headers)
    assert again.status_code == 404
    assert "no remembered fact" in again.json()["detail"]


def test_an_admin_acts_for_a_user_and_a_user_only_for_themselves(
    client: TestClient, services: Services
) -> None:
    ana, _ = user(client, services)
    services.memory.remember(ana, "my risk tolerance is low")
    _, admin = user(client, services, "admin")
    listed = client.get("/v1/memory", params={"user_id": str(ana)}, headers=admin)
    assert [f["text"] for f in listed.json()["facts"]] == ["my risk tolerance is low"]
    _, other = user(client, services)
    forbidden = client.get("/v1/memory", params={"user_id": str(ana)}, headers=other)
    assert forbidden.status_code == 403
