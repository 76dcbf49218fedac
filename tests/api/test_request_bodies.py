"""Request bodies: authenticated before a byte is read, bounded while they are read.

Issue 13: a 300 MB unauthenticated ``PUT /me`` took the API from 168 MB to 1.34 GB of
memory, which it kept; malformed JSON without a key got 422, not 401. The memory tests
run `impressox api` as a real process and send real bytes over a real socket.
"""

from __future__ import annotations

import os
import select
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from aggregates.services.bundle import Services
from impressox.embedded.process import ChildProcess, free_port, port_open
from impressox.settings import Settings
from tests.api.conftest import bearer
from tests.readside import eventually, issue_key

BODY_BYTES = 300 * 2**20
"""What issue 13 sent."""
CHUNK = 2**20
MAX_GROWTH = 8 * 2**20
"""How much the API's memory may grow while refusing a body: a few buffers, never the body."""
SEND_TIMEOUT_S = 60.0


@pytest.fixture
def api(settings: Settings, redis_url: str, mongo_url: str, tmp_path: Path) -> Iterator[int]:
    """`impressox api` as a child process on a free port: its port."""
    port = free_port()
    environment = {
        **os.environ,
        "REDIS_URL": redis_url,
        "MONGO_URL": mongo_url,
        "IMPRESSOX_STREAM_PREFIX": settings.stream_prefix,
        "IMPRESSOX_MONGO_DATABASE": settings.mongo_database,
        "IMPRESSOX_DATA_DIR": str(tmp_path),
        "IMPRESSOX_API_PORT": str(port),
        "IMPRESSOX_LOG_LEVEL": "WARNING",
    }
    child = ChildProcess(
        "api", [sys.executable, "-m", "impressox", "api"], log_path=tmp_path / "api.log",
        env=environment,
    )  # fmt: skip
    child.start()
    try:
        child.wait_ready(lambda: port_open("127.0.0.1", port), timeout=60, what="the API")
        assert child.pid is not None
        yield port
    finally:
        child.stop()


def api_rss(port: int) -> int:
    """The resident memory of the process listening on `port`."""
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN":
            assert connection.pid is not None
            return psutil.Process(connection.pid).memory_info().rss
    raise AssertionError(f"nothing listens on {port}")


def send(port: int, head: str, *, chunked: bool) -> bytes:
    """Send `head`, then up to BODY_BYTES of body until the server answers; the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=SEND_TIMEOUT_S) as connection:
        connection.sendall(head.encode())
        chunk = b"x" * CHUNK
        framed = f"{CHUNK:x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
        sent = 0
        while sent < BODY_BYTES:
            readable, writable, _ = select.select([connection], [connection], [], SEND_TIMEOUT_S)
            if readable:
                break  # the server answered before the body was all there
            if writable:
                try:
                    connection.sendall(framed)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += CHUNK
        answer = b""
        try:
            while not answer.endswith(b"}") and (piece := connection.recv(65536)):
                answer += piece
        except ConnectionResetError:
            pass
        return answer


def head(method: str, path: str, port: int, headers: dict[str, str]) -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def usable_key(port: int, services: Services) -> str:
    _, token = issue_key(services, "user")
    eventually(
        lambda: (
            httpx.get(f"http://127.0.0.1:{port}/v1/me", headers=bearer(token)).status_code == 200
        )
    )
    return token


def test_an_unauthenticated_huge_body_is_refused_unread(api: int, services: Services) -> None:
    usable_key(api, services)  # the API has served requests: its memory is warm
    before = api_rss(api)
    length = {"Content-Type": "application/json", "Content-Length": str(BODY_BYTES)}
    answer = send(api, head("PUT", "/v1/me", api, length), chunked=False)
    assert api_rss(api) - before < MAX_GROWTH
    assert status_of(answer) == 401
    assert b"application/problem+json" in answer


def test_an_authenticated_huge_body_is_413_declared_or_chunked(
    api: int, services: Services
) -> None:
    token = usable_key(api, services)
    before = api_rss(api)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    declared = send(
        api, head("PUT", "/v1/me", api, {**auth, "Content-Length": str(BODY_BYTES)}),
        chunked=False,
    )  # fmt: skip
    assert status_of(declared) == 413
    assert b"application/problem+json" in declared
    streamed = send(
        api, head("POST", "/v1/rules", api, {**auth, "Transfer-Encoding": "chunked"}),
        chunked=True,
    )  # fmt: skip
    assert status_of(streamed) == 413
    assert b"65536 bytes" in streamed
    assert api_rss(api) - before < MAX_GROWTH


def test_malformed_json_without_a_key_is_401(client: TestClient) -> None:
    refused = client.put(
        "/v1/me", content=b'{"display_name": ', headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_body_within_a_bulk_endpoints_own_limit_is_read(
    client: TestClient, user: tuple[UUID, str]
) -> None:
    """64 KiB is the default; a knowledge document may be a megabyte."""
    document = {"id": "notes", "title": "notes", "text": "SOL " * 100_000}
    added = client.post("/v1/knowledge/documents", json=document, headers=bearer(user[1]))
    assert added.status_code == 202, added.text
    too_big = client.put("/v1/me", json={"display_name": "x" * 70_000}, headers=bearer(user[1]))
    assert too_big.status_code == 413
    assert too_big.json()["detail"].startswith("the body is larger than 65536 bytes")
