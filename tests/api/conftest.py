"""An API of the test's own (a test client, or on a real socket), its projector, and keys
of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from aggregates.services.bundle import Services
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.api.live_server import LiveServer, serving
from tests.polling import eventually
from tests.readside import ProjectorThread, issue_key


@pytest.fixture
def live(
    settings: Settings, redis_url: str, mongo_url: str, projector: ProjectorThread
) -> Iterator[LiveServer]:
    """The API on a real socket, its read models kept up to date meanwhile."""
    with serving(settings, redis_url, mongo_url) as server:
        yield server


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
