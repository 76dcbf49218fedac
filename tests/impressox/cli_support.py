"""Running the `impressox` command as a real process, as an operator would."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]

Cli = Callable[..., subprocess.CompletedProcess[str]]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI process: test modules importable, data in `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPRESSOX_")}
    env.pop("REDIS_URL", None)
    env.pop("MONGO_URL", None)
    env.update(
        PYTHONPATH=str(REPO),
        IMPRESSOX_DATA_DIR=str(data_dir),
        IMPRESSOX_MODULES=json.dumps(["tests.factories", "tests.handlers.crash_handlers"]),
        IMPRESSOX_LOG_FORMAT="json",
        IMPRESSOX_LOG_LEVEL="WARNING",
        COLUMNS="80",  # the narrowest terminal a table must fit
    )
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "impressox", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class LineReader:
    """Reads a process's output lines on a thread, so waiting for one can time out.

    (Selecting on a text pipe misses lines already pulled into Python's buffer.)
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def next_line(self, timeout: float) -> str | None:
        """The next line, or None at end of output or after `timeout` seconds."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Close the pipe once its process has exited (the thread then sees its end)."""
        self._thread.join(timeout=10)
        self._stream.close()
