"""Where a running system can be reached, written to the data directory.

`impressox up` owns the data directory while it runs (an exclusive lock) and writes the
URLs of its Redis, MongoDB and API there, so `impressox events ...` run in another
terminal talks to the same servers without being told where they are.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from events.errors import ConfigurationError


@dataclass(frozen=True)
class Endpoints:
    redis_url: str
    mongo_url: str
    api_url: str
    pid: int


def endpoints_path(run_dir: Path) -> Path:
    return run_dir / "endpoints.json"


def write_endpoints(run_dir: Path, endpoints: Endpoints) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = endpoints_path(run_dir)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(endpoints), indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)


def read_endpoints(run_dir: Path) -> Endpoints | None:
    """The endpoints of the system running on this data directory, if one runs."""
    try:
        data = json.loads(endpoints_path(run_dir).read_text())
        endpoints = Endpoints(**data)
    except (OSError, ValueError, TypeError):
        return None
    return endpoints if _alive(endpoints.pid) else None


def remove_endpoints(run_dir: Path) -> None:
    endpoints_path(run_dir).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DataDirLock:
    """An exclusive lock on a data directory: one set of embedded servers per directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "run" / "lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigurationError(
                f"data directory {self.path.parent.parent} is in use by {holder};"
                " stop it, or set IMPRESSOX_DATA_DIR to another directory"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
