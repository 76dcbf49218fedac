"""An API of the test's own, its projector, and keys of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from aggregates.services.bundle import Services
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.readside import ProjectorThread, eventually, isolated_settings, issue_key


@pytest.fixture
def settings(prefix: str, tmp_path: Path) -> Settings:
    return isolated_settings(prefix, tmp_path)


@pytest.fixture
def projector(
    settings: Settings, redis_url: str, mongo_url: str, redis: Redis
) -> Iterator[ProjectorThread]:
    """Runs until the test ends; set up after (so stopped before) the key cleanup."""
    thread = ProjectorThread(settings, redis_url, mongo_url).start()
    yield thread
    thread.stop()


@pytest.fixture
def client(
    settings: Settings, redis_url: str, mongo_url: str, projector: ProjectorThread
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as test_client:
        yield test_client


def _ready_key(client: TestClient, services: Services, *scopes: str) -> tuple[UUID, str]:
    user_id, token = issue_key(services, *scopes, name="-".join(scopes))
    headers = {"Authorization": f"Bearer {token}"}

    def projected() -> bool:
        """The key works (the API's key table) and the user's profile is in the `users`
        read model, which the key no longer waits for."""
        response = client.get("/v1/me", headers=headers)
        return response.status_code == 200 and response.json()["display_name"] is not None

    eventually(projected)
    return user_id, token


@pytest.fixture
def admin(client: TestClient, services: Services) -> tuple[UUID, str]:
    """(user id, token) of a user with an admin key, usable once this returns."""
    return _ready_key(client, services, "admin")


@pytest.fixture
def user(client: TestClient, services: Services) -> tuple[UUID, str]:
    return _ready_key(client, services, "user")


@pytest.fixture
def other_user(client: TestClient, services: Services) -> tuple[UUID, str]:
    return _ready_key(client, services, "user")


@pytest.fixture
def ingester(client: TestClient, services: Services) -> tuple[UUID, str]:
    return _ready_key(client, services, "ingest")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
