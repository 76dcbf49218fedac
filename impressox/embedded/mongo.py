"""A private MongoDB-wire server: SecantusDB's `secantusd-py`, spoken to only over the wire.

SecantusDB is GPL-2.0, so we never import it: it runs as a separate program, exactly as
a MongoDB server would, and any MongoDB can replace it through MONGO_URL.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from events.errors import InfrastructureError
from impressox.embedded.process import port_open
from impressox.embedded.server import EmbeddedServer


def find_secantusd() -> Path:
    """`secantusd-py` beside our interpreter (the virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "secantusd-py"
    if beside.exists():
        return beside
    on_path = shutil.which("secantusd-py")
    if on_path:
        return Path(on_path)
    raise InfrastructureError(
        "no secantusd-py found: `pip install 'impressox[embedded]'` or set MONGO_URL"
    )


class EmbeddedMongo(EmbeddedServer):
    """A SecantusDB child process with its WiredTiger files in `data_dir`."""

    program = "secantusd-py"
    log_name = "secantusd.log"

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def _config(self) -> Path:
        return self.data_dir / "secantusd.toml"

    def _prepare(self) -> None:
        # An explicit (empty) config file turns off secantusd's discovery of
        # ./secantusd.toml, so the directory we are started from cannot change its setup.
        self._config.touch()

    def _find_binary(self) -> Path:
        return find_secantusd()

    def _argv(self, binary: Path) -> list[str]:
        return [
            str(binary),
            "--config", str(self._config),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", str(self.data_dir / "data"),
            "--log-level", "WARNING",
        ]  # fmt: skip

    def _answering_pid(self) -> int | None:
        if not port_open("127.0.0.1", self.port):
            return None
        try:
            client: MongoClient[dict[str, object]] = MongoClient(
                self.url, serverSelectionTimeoutMS=500
            )
            with client:
                pid = client.admin.command("serverStatus").get("pid")
        except PyMongoError:
            return None
        return int(pid) if isinstance(pid, int) else None
