"""The real servers tests run against, started once per session on free ports.

Set REDIS_URL or MONGO_URL to run the suite against servers of your own instead; each
test uses its own key prefix (and database), so a shared server is not disturbed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.redis import EmbeddedRedis


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
