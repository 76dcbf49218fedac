"""What every embedded server shares: a data directory, a free port, a clean stop.

Subclasses say how to start their program (`_argv`) and which process answers on the
port (`_answering_pid`); readiness means *our* child answers, since another server may
hold a port we picked, and a lost race for the port is retried on another one.

Once a server has run, it keeps its port: started again (after a crash, by the
supervisor), it comes back where its clients look for it, with the data it had.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from events.errors import InfrastructureError
from impressox.embedded.process import ChildProcess, free_port

PORT_ATTEMPTS = 3


class EmbeddedServer(ABC):
    """A server run as a child process with its files in `data_dir`."""

    program: str
    """The program's name, for messages."""
    log_name: str
    """Its log file, in the data directory."""

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
    @abstractmethod
    def url(self) -> str:
        """How clients reach the server once it runs."""

    @abstractmethod
    def _argv(self, binary: Path) -> list[str]:
        """The command line that starts the server on `self.port`."""

    @abstractmethod
    def _find_binary(self) -> Path:
        """The program to run when none was given."""

    @abstractmethod
    def _answering_pid(self) -> int | None:
        """The pid of whatever server answers on `self.port`, or None if none does yet."""

    def _prepare(self) -> None:  # noqa: B027 - an optional hook, not an abstract step
        """Anything to set up in the data directory before the first start."""

    def start(self) -> str:
        """Start the server and wait until it answers; returns its URL."""
        attempts = 1 if self.requested_port or self.port else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            child = self.spawn()
            try:
                child.wait_ready(self.answering, timeout=self.startup_timeout, what=self.url)
                return self.url
            except InfrastructureError:
                lost_port_race = "Address already in use" in child.log_tail(10)
                if not lost_port_race or attempt == attempts:
                    raise
                self.port = 0
        raise AssertionError("unreachable: the last attempt returns or raises")

    def spawn(self) -> ChildProcess:
        """Start the server's process without waiting for it: on the port it had, if it
        ran before, else the requested one, else a free one."""
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare()
        binary = self.binary or self._find_binary()
        self.port = self.port or self.requested_port or free_port()
        child = self.child = ChildProcess(
            self.program,
            self._argv(binary),
            log_path=self.data_dir / self.log_name,
            process_group=self.process_group,
        )
        child.start()
        return child

    def answering(self) -> bool:
        """Whether our process (not another server on the port) answers."""
        return self.child is not None and self._answering_pid() == self.child.pid

    def stop(self) -> None:
        """SIGTERM (both our servers flush their logs on it), then SIGKILL after 30 s."""
        if self.child:
            self.child.stop(timeout=30)
