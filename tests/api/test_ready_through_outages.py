"""/readyz through an outage: it names the server that is down while it is down, and the
API is ready again on its own once the server is back (no restart of the API).

The API runs on a Redis and a MongoDB of the test's own, which the test SIGKILLs and
starts again on the same ports with their data, as `impressox up` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from impressox.api_app import create_app
from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.redis import EmbeddedRedis
from impressox.settings import Settings
from tests.servers import kill, private_server


@pytest.fixture
def private_mongo(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    with private_server(EmbeddedMongo(tmp_path / "mongo")) as server:
        assert isinstance(server, EmbeddedMongo)
        yield server


@pytest.fixture
def client(
    settings: Settings, private_redis: EmbeddedRedis, private_mongo: EmbeddedMongo
) -> Iterator[TestClient]:
    app = create_app(settings, redis_url=private_redis.url, mongo_url=private_mongo.url)
    with TestClient(app) as test_client:
        yield test_client


def test_readyz_names_redis_while_it_is_down_and_recovers_with_it(
    client: TestClient, private_redis: EmbeddedRedis
) -> None:
    assert client.get("/readyz").status_code == 200
    kill(private_redis)
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    body = down.json()
    assert body["detail"].startswith("redis: ")
    assert body["checks"]["redis"] != "ok"
    assert body["checks"]["mongodb"] == "ok"
    private_redis.start()
    back = client.get("/readyz")
    assert back.status_code == 200, back.json()


def test_readyz_names_mongodb_while_it_is_down_and_recovers_with_it(
    client: TestClient, private_mongo: EmbeddedMongo
) -> None:
    assert client.get("/readyz").status_code == 200
    kill(private_mongo)
    down = client.get("/readyz")
    assert down.status_code == 503
    body = down.json()
    assert body["detail"].startswith("mongodb: ")
    assert body["checks"] == {"redis": "ok", "mongodb": body["checks"]["mongodb"]}
    assert body["checks"]["mongodb"] != "ok"
    private_mongo.start()
    back = client.get("/readyz")
    assert back.status_code == 200, back.json()
