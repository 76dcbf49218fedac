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
from impressox.embedded.process import ChildProcess, free_port, port_open


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


class EmbeddedMongo:
    """A SecantusDB child process with its WiredTiger files in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        binary: Path | None = None,
        startup_timeout: float = 60.0,
        process_group: int = 0,
    ) -> None:
        self.data_dir = data_dir
        self.requested_port = port
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.process_group = process_group
        self.port = 0
        self.child: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        """Start the server and wait until it answers ping; returns its URL."""
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # An explicit (empty) config file turns off secantusd's discovery of
        # ./secantusd.toml, so the directory we are started from cannot change its setup.
        config = self.data_dir / "secantusd.toml"
        config.touch()
        self.port = self.requested_port or free_port()
        self.child = ChildProcess(
            "secantusd-py",
            [
                str(self.binary or find_secantusd()),
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.data_dir / "data"),
                "--log-level",
                "WARNING",
            ],
            log_path=self.data_dir / "secantusd.log",
            process_group=self.process_group,
        )
        self.child.start()
        self.child.wait_ready(self._answers, timeout=self.startup_timeout, what=self.url)
        return self.url

    def _answers(self) -> bool:
        if not port_open("127.0.0.1", self.port):
            return False
        try:
            client: MongoClient[dict[str, object]] = MongoClient(
                self.url, serverSelectionTimeoutMS=500
            )
            with client:
                status = client.admin.command("serverStatus")
                # Ready when *our* process answers: another server may hold the port.
                return self.child is not None and status.get("pid") == self.child.pid
        except PyMongoError:
            return False

    def stop(self) -> None:
        """Shut down cleanly (SecantusDB checkpoints WiredTiger on SIGTERM)."""
        if self.child:
            self.child.stop(timeout=30)
