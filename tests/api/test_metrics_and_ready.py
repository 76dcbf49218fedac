"""/metrics (the system's figures, for an admin key) and /readyz holding back while a
read model is too far behind, or a handler's partition is stalled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from aggregates.services.bundle import Services
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.api_app import create_app
from impressox.settings import Settings
from projections.generations import Generations
from projections.model import Document
from projections.readmodels.api_keys import ApiKeys
from tests.api.conftest import bearer
from tests.factories import ping
from tests.handlers.crash_handlers import copy_ping  # noqa: F401 - registers "copier"
from tests.handlers.support import FAST, running, wait_until
from tests.readside import ProjectorThread, eventually, issue_key
from tests.readside import isolated_settings as settings_for

MAX_LAG = 2


@pytest.fixture
def settings(prefix: str, tmp_path: Path) -> Settings:
    return settings_for(prefix, tmp_path, ready_max_lag=MAX_LAG)


@pytest.fixture
async def database(mongo_url: str, settings: Settings) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[settings.mongo_database]
    await client.drop_database(settings.mongo_database)
    await client.close()


def test_metrics_export_streams_groups_and_read_models(
    client: TestClient, admin: tuple[UUID, str], user: tuple[UUID, str]
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(user[1])).status_code == 403
    response = client.get("/metrics", headers=bearer(admin[1]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "process_resident_memory_bytes" in response.text
    # Keys work before the projector has made its groups (the API folds the keys itself).
    group_lag = 'impressox_group_lag{group="proj-api_keys-g1",stream="'

    def metrics_with_the_group() -> str | None:
        text = client.get("/metrics", headers=bearer(admin[1])).text
        return text if group_lag in text else None

    text = eventually(metrics_with_the_group)
    assert "# TYPE impressox_stream_length gauge" in text
    assert (
        'impressox_projection_backlog{generation="1",projection="api_keys",role="active"}' in text
    )
    assert 'impressox_projection_active_generation{projection="api_keys"} 1.0' in text
    assert client.get("/v1/metrics", headers=bearer(admin[1])).status_code == 404


async def test_not_ready_while_a_read_model_is_too_far_behind(
    database: AsyncDatabase[Document],
    settings: Settings,
    services: Services,
    redis_url: str,
    mongo_url: str,
) -> None:
    await Generations(database).ensure(ApiKeys())  # a projector ran it once, then stopped
    for n in range(MAX_LAG):
        issue_key(services, "user", name=f"u{n}")  # two log entries each
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["detail"] == (
            f"projections: api_keys is {2 * MAX_LAG} events behind"
            f" (IMPRESSOX_READY_MAX_LAG={MAX_LAG})"
        )
        assert body["checks"]["redis"] == body["checks"]["mongodb"] == "ok"
        projector = ProjectorThread(settings, redis_url, mongo_url, names=["api_keys"]).start()
        try:
            ready = eventually(lambda: _ready(client))
        finally:
            projector.stop()
    assert ready == {
        "status": "ready",
        "checks": {
            "redis": "ok",
            "mongodb": "ok",
            "projections": "ok",
            "handlers": "ok",
            "bots": "ok",
        },
    }


def _ready(client: TestClient) -> dict[str, object] | None:
    response = client.get("/readyz")
    return response.json() if response.status_code == 200 else None


async def test_not_ready_while_a_handlers_partition_is_stalled(
    prefix: str, tmp_path: Path, store: EventStore, redis_url: str, mongo_url: str
) -> None:
    """Issue 13: every tick of a partition failed for ten minutes while /readyz said 200.
    Work waiting without its partition advancing now fails readiness, naming it."""
    settings = settings_for(prefix, tmp_path, stall_after_s=0.3)
    stream = (await store.append("pings", ping(1))).stream
    await store.redis.xgroup_create(stream, "copier", "0")  # no worker runs it
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:

        async def not_ready() -> bool:
            return (await asyncio.to_thread(client.get, "/readyz")).status_code == 503

        await wait_until(not_ready)
        problem = client.get("/readyz").json()
        assert problem["checks"]["handlers"].startswith(f"stalled: copier on {stream} for ")
        assert problem["checks"]["handlers"].endswith("s (IMPRESSOX_STALL_AFTER_S=0.3)")
        assert problem["detail"] == f"handlers: {problem['checks']['handlers']}"
        async with running(Worker(HANDLERS.get("copier"), store, FAST)):

            async def ready() -> bool:
                return (await asyncio.to_thread(client.get, "/readyz")).status_code == 200

            await wait_until(ready)
