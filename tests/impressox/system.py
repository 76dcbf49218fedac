"""A running `impressox up`, as a test drives it: what it printed, its children, its API."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import psutil

from tests.impressox.cli_support import REPO, LineReader


class System:
    """A running `impressox up` and what it printed."""

    def __init__(self, env: dict[str, str], *, log: IO[bytes] | None = None) -> None:
        """Start it and wait for its banner; its logs go to `log` (none: discarded)."""
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "impressox", "up"],
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.banner = self._read_banner(timeout=300)
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
        """GET `path`, which must answer 2xx (an error's socket is closed before it is
        raised, so a failed check does not leak it into a later test's warnings)."""
        try:
            with urllib.request.urlopen(self.endpoints["api_url"] + path, timeout=5) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            error.close()
            raise

    def status(self, path: str) -> tuple[int, dict[str, Any]]:
        """GET `path`: its status and JSON body, errors included; 0 if the API is away."""
        try:
            with urllib.request.urlopen(self.endpoints["api_url"] + path, timeout=5) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"{}")
        except OSError:
            return 0, {}

    def server_pid(self, program: str) -> int:
        """The pid of the embedded server running `program` now (it changes on restart)."""
        for child in psutil.Process(self.process.pid).children():
            try:
                if any(program in part for part in child.cmdline()) and alive(child.pid):
                    return child.pid
            except psutil.Error:
                continue  # it ended while we looked (a process exiting, a zombie)
        raise AssertionError(f"no {program} is running under impressox up")

    def current_children(self) -> list[int]:
        """Its processes now (restarted ones included)."""
        try:
            return [c.pid for c in psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.Error:
            return []

    def alive_children(self) -> list[int]:
        return [pid for pid in self.children if alive(pid)]

    def close(self) -> None:
        """Kill what is left: the supervisor, and its children, which would otherwise
        take their time stopping (and keep its output open) after a failed test."""
        if self.process.poll() is None:
            self.children += self.current_children()
            self.process.kill()
        self.process.wait()
        for pid in self.alive_children():
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        self.reader.close()


def process_group(pid: int) -> int | None:
    """`pid`'s process group; None once it ended (a one-shot source: the demo posts)."""
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False
