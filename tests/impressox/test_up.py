"""`impressox up`: the whole system in one command, stopped cleanly, restarted intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.impressox.cli_support import REPO, LineReader, cli_env, json_lines, run_cli


class System:
    """A running `impressox up` and what it printed."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "impressox", "up"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.banner = self._read_banner(timeout=120)
        self.endpoints = json.loads(
            (Path(env["IMPRESSOX_DATA_DIR"]) / "run" / "endpoints.json").read_text()
        )
        self.children = [
            child.pid for child in psutil.Process(self.process.pid).children(recursive=True)
        ]

    def _read_banner(self, timeout: float) -> str:
        assert self.process.stdout is not None
        self.reader = reader = LineReader(self.process.stdout)
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = reader.next_line(timeout=1)
            if line is None:
                if self.process.poll() is not None:
                    break
                continue
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                return "".join(lines)
        self.process.kill()
        self.process.wait()
        reader.close()
        raise AssertionError("impressox up did not come up:\n" + "".join(lines))

    def get(self, path: str) -> tuple[int, dict[str, object]]:
        with urllib.request.urlopen(self.endpoints["api_url"] + path, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())

    def alive_children(self) -> list[int]:
        return [pid for pid in self.children if _alive(pid)]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.reader.close()


def _process_group(pid: int) -> int | None:
    """`pid`'s process group; None once it ended (a one-shot source: the demo posts)."""
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _pongs(env: dict[str, str]) -> list[int]:
    read = run_cli(env, "events", "read", "pongs")
    return sorted(event["payload"]["n"] for event in json_lines(read.stdout))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_up_runs_the_system_stops_cleanly_and_restarts_intact(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", IMPRESSOX_API_PORT="0", IMPRESSOX_LOG_LEVEL="INFO")
    system = System(env)
    try:
        assert "Impressox is up." in system.banner
        workers = next(line for line in system.banner.splitlines() if "Workers" in line)
        assert {"agent", "copier", "knowledge", "notify", "rules"} <= set(
            workers.split(None, 1)[1].split(", ")
        )
        assert system.get("/healthz") == (200, {"status": "ok"})
        assert system.get("/readyz")[0] == 200
        assert len(system.children) >= 4  # redis, mongo, api, a worker (and their helpers)
        pgids = {_process_group(pid) for pid in system.children} - {None}
        assert len(pgids) == 1, "the system's processes share one process group"
        lines = "\n".join(
            json.dumps({"type": "test.ping", "key": f"k{n}", "payload": {"n": n}}) for n in range(3)
        )
        appended = run_cli(env, "events", "append", "pings", stdin=lines)
        assert appended.returncode == 0, appended.stderr
        assert _wait_for(lambda: _pongs(env) == [0, 1, 2], timeout=30)

        system.process.send_signal(signal.SIGINT)
        assert system.process.wait(timeout=90) == 0
        assert _wait_for(lambda: not system.alive_children(), timeout=15), system.alive_children()
        assert not (tmp_path / "data" / "run" / "endpoints.json").exists()
    finally:
        system.close()

    again = System(env)
    try:
        assert _pongs(env) == [0, 1, 2], "data did not survive the restart"
        again.process.send_signal(signal.SIGKILL)
        again.process.wait()
        assert _wait_for(lambda: not again.alive_children(), timeout=20), again.alive_children()
    finally:
        again.close()
