"""The real servers tests run against, started once per session on free ports.

Set REDIS_URL or MONGO_URL to run the suite against servers of your own instead; each
test uses its own key prefix (and database), so a shared server is not disturbed.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.redis import EmbeddedRedis
from impressox.embedded.server import EmbeddedServer


@contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    """REDIS_URL when set, else a private redis-server for the session."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(data_dir)
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def mongo_server(data_dir: Path) -> Iterator[str]:
    """MONGO_URL when set, else a private SecantusDB for the session."""
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    server = EmbeddedMongo(data_dir)
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def private_server(server: EmbeddedServer) -> Iterator[EmbeddedServer]:
    """A server of the test's own, which the test may `kill` and start again: on the same
    port, with its data, as `impressox up` restarts one."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def kill(server: EmbeddedServer) -> None:
    """SIGKILL the server's process and reap it: no flush, no goodbye to its clients."""
    assert server.child is not None
    assert server.child.process is not None
    server.child.process.kill()
    server.child.process.wait()


def squat(port: int) -> socket.socket:
    """Listen on `port` (as another program might) as soon as a killed server's last
    thread has let it go."""
    deadline = time.monotonic() + 10
    while True:
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            squatter.bind(("127.0.0.1", port))
        except OSError:
            squatter.close()
            assert time.monotonic() < deadline, f"port {port} stayed busy"
            time.sleep(0.05)
            continue
        squatter.listen()
        return squatter
