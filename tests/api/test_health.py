"""Health and readiness, and errors rendered as problem details."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from redis import Redis

from impressox.api_app import create_app
from impressox.embedded.process import free_port
from impressox.settings import Settings


def test_health_needs_nothing(settings: Settings, redis_url: str, mongo_url: str) -> None:
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_redis_and_mongo_answer(
    settings: Settings, redis_url: str, mongo_url: str
) -> None:
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {
            "redis": "ok",
            "mongodb": "ok",
            "projections": "ok",
            "handlers": "ok",
            "bots": "ok",
        },
    }


def test_not_ready_while_a_reporting_bot_is_disconnected(
    settings: Settings, redis_url: str, mongo_url: str
) -> None:
    names = settings.stream_names()
    app = create_app(settings, redis_url=redis_url, mongo_url=mongo_url)
    with TestClient(app) as client, Redis.from_url(redis_url) as redis:
        redis.hset(names.bot_health("discord"), mapping={"connected": "0"})
        redis.expire(names.bot_health("discord"), 30)
        try:
            response = client.get("/readyz")
        finally:
            redis.delete(names.bot_health("discord"))
    assert response.status_code == 503
    assert response.json()["checks"]["bots"] == "not connected: discord"


def test_not_ready_says_which_dependency_failed(settings: Settings, redis_url: str) -> None:
    nowhere = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=nowhere)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Not ready"
    assert body["detail"].startswith("mongodb: ")
    assert body["checks"]["redis"] == "ok"


def test_unknown_paths_are_problems_too(settings: Settings, redis_url: str, mongo_url: str) -> None:
    """Under /v1 the key comes first: without one, an unknown path is a 401 like any other
    (nothing is told about which paths exist); elsewhere it is a 404."""
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        api = client.get("/v1/nowhere")
        other = client.get("/healthz/nowhere")
    assert (api.status_code, other.status_code) == (401, 404)
    for response in (api, other):
        assert response.headers["content-type"] == "application/problem+json"
    assert other.json()["title"] == "Not Found"


def test_the_api_documents_itself(settings: Settings, redis_url: str, mongo_url: str) -> None:
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        spec = client.get("/openapi.json").json()
        docs = client.get("/docs")
    assert {"/healthz", "/readyz"} <= set(spec["paths"])
    assert docs.status_code == 200


def test_docs_work_offline(settings: Settings, redis_url: str, mongo_url: str) -> None:
    """/docs names no CDN: every script and style it loads is served by the API itself."""
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        docs = client.get("/docs")
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", docs.text)
        loaded = [client.get(asset) for asset in assets if asset.endswith((".js", ".css"))]
        redoc = client.get("/redoc")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assert not [asset for asset in assets if "://" in asset]
    assert len(loaded) == 2
    assert all(response.status_code == 200 for response in loaded)
    assert redoc.status_code == 200
    assert "://" not in "".join(re.findall(r"""src=['"]([^'"]+)['"]""", redoc.text))
