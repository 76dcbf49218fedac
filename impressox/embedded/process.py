"""Child processes that cannot outlive us, and whose failures explain themselves.

Two mechanisms keep children from becoming orphans:

1. ``PR_SET_PDEATHSIG`` (Linux): the kernel sends the child SIGTERM the moment the
   process that spawned it dies, even by SIGKILL. Redis and SecantusDB both shut down
   cleanly on SIGTERM, flushing their logs.
2. Children run in a process group of their own (one group for the whole system when
   the supervisor passes it along), not the terminal's: a Ctrl-C reaches only our
   supervisor, which then stops children in order (workers before the databases they
   write to) instead of everything at once, and ``kill -- -PGID`` reaches them all.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import IO

from events.errors import InfrastructureError

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (a server may still race us for it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A preexec hook asking the kernel to SIGTERM the child when its parent dies."""

    def hook() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os.kill(os.getpid(), signal.SIGTERM)

    return hook


class ChildProcess:
    """One server or worker process, its log file, and how to stop it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path | None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        process_group: int = 0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.process_group = process_group
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        """Spawn the process with its output appended to its log file (or ours, if none).

        Call this from a long-lived thread (the main thread): Linux delivers the parent
        death signal when the spawning *thread* exits, not only the process.
        """
        if self.log_path is None:
            self._spawn(stdout=None)
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._spawn(stdout=log)

    def _spawn(self, stdout: IO[bytes] | None) -> None:
        try:
            self._popen(stdout, self.process_group)
        except PermissionError:  # the group to join has no member left: start a new one
            self._popen(stdout, 0)

    def _popen(self, stdout: IO[bytes] | None, process_group: int) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - argv is built by us, never a shell
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            env=self.env,
            cwd=self.cwd,
            process_group=process_group,
            preexec_fn=_die_with_parent(os.getpid()),  # noqa: PLW1509 - spawned from the main thread
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def wait_ready(self, ready: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll `ready` until it holds; a child that exits or stalls raises with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise InfrastructureError(
                    f"{self.name} exited with code {self.exit_code()} while starting"
                    f" {what}.\n{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise InfrastructureError(
            f"{self.name} did not become ready within {timeout:.0f}s ({what}).\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the child's log, for error messages."""
        if self.log_path is None:
            return "(its output went to this terminal)"
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        tail = text.splitlines()[-lines:]
        return f"last {len(tail)} lines of {self.log_path}:\n" + "\n".join(
            f"  | {line}" for line in tail
        )
