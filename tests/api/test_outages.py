"""Redis or MongoDB away: 503 problem+json with Retry-After, and back by itself after.

Each test starts servers of its own and kills them (SIGKILL, as a crash would); the
session's shared servers are never touched. Issue 13 saw a plain-text 500 on every
authenticated endpoint while Redis was down.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient
from pymongo.errors import ServerSelectionTimeoutError
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from aggregates.services.bundle import Services
from api.outages import outage_response
from events.outages import unavailable_dependency
from impressox.api_app import create_app
from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.redis import EmbeddedRedis
from impressox.embedded.server import EmbeddedServer
from impressox.services import build_services
from impressox.settings import Settings
from tests.api.conftest import bearer
from tests.api.live_server import serving
from tests.api.test_websocket import closed_code, expect
from tests.polling import eventually
from tests.readside import issue_key

AUTH_CACHE_S = 1.0
SETTINGS = {"auth_cache_s": AUTH_CACHE_S}
TICKS = {
    "events": [
        {
            "type": "price.tick",
            "payload": {"symbol": "BTC/USDT", "venue": "manual", "price": 101000, "volume": 1.5,
                        "source_time": "2026-11-21T12:00:00Z"},
        }
    ]
}  # fmt: skip
RULE = {
    "name": "BTC breakout",
    "target": {"kind": "symbol", "symbol": "BTC/USDT"},
    "condition": {"type": "crosses_up", "threshold": 100000},
    "frequency": {"kind": "every_time", "cooldown_s": 600},
    "channels": ["web"],
}


def kill(server: EmbeddedServer) -> None:
    """SIGKILL the server, as a crash or the OOM killer would, and reap it."""
    assert server.child is not None
    assert server.child.process is not None
    os.kill(server.child.process.pid, signal.SIGKILL)
    server.child.process.wait(10)


def assert_unavailable(response: Any, dependency: str, address: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    detail = response.json()["detail"]
    assert dependency in detail, detail
    assert address not in detail  # where our servers live is nobody's business


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_mongo(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(tmp_path / "mongo")
    server.start()
    yield server
    server.stop()


def test_redis_away_is_503_everywhere_and_the_api_comes_back_by_itself(
    settings: Settings, mongo_url: str, private_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    redis_url = private_redis.url
    services: Services = build_services(settings, redis_url)
    app = create_app(settings, redis_url=redis_url, mongo_url=mongo_url)
    try:
        with TestClient(app) as client:
            _, token = issue_key(services, "user")
            headers = bearer(token)
            eventually(lambda: client.get("/v1/me", headers=headers).status_code == 200)

            kill(private_redis)
            address = f"127.0.0.1:{private_redis.port}"
            assert_unavailable(client.get("/v1/me", headers=headers), "Redis", address)
            assert_unavailable(client.get("/v1/rules", headers=headers), "Redis", address)
            created = client.post("/v1/rules", json=RULE, headers=headers)
            assert_unavailable(created, "Redis", address)

            restarted = EmbeddedRedis(tmp_path / "redis", port=private_redis.port)
            restarted.start()
            try:
                eventually(lambda: client.get("/v1/me", headers=headers).status_code == 200)
                assert client.post("/v1/rules", json=RULE, headers=headers).status_code == 201
            finally:
                restarted.stop()
    finally:
        services.close()


def test_keys_work_and_revocations_bite_while_mongodb_is_away(
    settings: Settings, redis_url: str, private_mongo: EmbeddedMongo, services: Services,
    tmp_path: Path,
) -> None:  # fmt: skip
    user_id = services.users.register("ingester")
    issued = services.users.issue_api_key(user_id, {"name": "feed", "scopes": ["user", "ingest"]})
    headers = bearer(issued.token)
    app = create_app(settings, redis_url=redis_url, mongo_url=private_mongo.url)
    with TestClient(app) as client:
        assert client.post("/v1/events/ticks", json=TICKS, headers=headers).status_code == 200

        kill(private_mongo)
        address = f"127.0.0.1:{private_mongo.port}"
        asked = time.monotonic()
        assert_unavailable(client.get("/v1/rules", headers=headers), "MongoDB", address)
        assert time.monotonic() - asked > AUTH_CACHE_S  # the driver waited: the key is not cached
        appended = client.post("/v1/events/ticks", json=TICKS, headers=headers)
        assert appended.status_code == 200, appended.text  # authenticating needs Redis only

        services.users.revoke_api_key(user_id, issued.key_id)
        eventually(
            lambda: client.post("/v1/events/ticks", json=TICKS, headers=headers).status_code == 401,
            within=AUTH_CACHE_S + 1,
        )

        restarted = EmbeddedMongo(tmp_path / "mongo", port=private_mongo.port)
        restarted.start()
        try:
            _, token = issue_key(services, "user")
            eventually(lambda: client.get("/v1/rules", headers=bearer(token)).status_code == 200)
        finally:
            restarted.stop()


async def test_a_live_client_is_closed_with_4503_while_redis_is_away(
    settings: Settings, mongo_url: str, private_redis: EmbeddedRedis
) -> None:
    services = build_services(settings, private_redis.url)
    try:
        _, token = issue_key(services, "user")
    finally:
        services.close()
    with serving(settings, private_redis.url, mongo_url) as server:
        kill(private_redis)
        async with connect(server.url) as socket:
            # The server may say so before it reads the key (an anonymous socket is
            # counted in Redis too): then this send finds the socket closed.
            with contextlib.suppress(ConnectionClosed):
                await socket.send(orjson.dumps({"type": "auth", "key": token}).decode())
            error = await expect(socket, "error")
            assert "Redis is unavailable" in error["detail"]
            assert str(private_redis.port) not in error["detail"]
            assert (await closed_code(socket))[0] == 4503


def test_an_outage_is_found_through_the_errors_that_wrap_it() -> None:
    cause = RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")
    wrapped = OperationalError(str(cause))
    wrapped.__cause__ = cause
    outer = RuntimeError("while loading a rule")
    outer.__cause__ = wrapped
    assert unavailable_dependency(outer) == "Redis"
    assert unavailable_dependency(ServerSelectionTimeoutError("no servers")) == "MongoDB"
    assert unavailable_dependency(ValueError("a bug")) is None


def test_a_refused_password_is_a_503_logged_as_an_error_naming_it() -> None:
    """Not the caller's fault, so 503 all the same; but waiting will not fix it, so the
    log says what an operator has to fix, as an error rather than an outage."""
    refusal = AuthenticationError("invalid username-password pair")
    wrapped = OperationalError(str(refusal))
    wrapped.__cause__ = refusal
    with capture_logs() as logs:
        response = outage_response(wrapped, "/v1/rules")
    assert response is not None
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    (entry,) = logs
    assert entry["log_level"] == "error"
    assert "AuthenticationError" in entry["cause"]
    with capture_logs() as logs:
        outage_response(RedisConnectionError("Connection refused"), "/v1/rules")
    assert [entry["log_level"] for entry in logs] == ["warning"]
