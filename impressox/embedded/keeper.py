"""Keeping an embedded server running: the supervisor's part in surviving a crash of
Redis or MongoDB.

A server that dies (SIGKILL, out of memory, a bug) is reaped and started again at once,
on the same port and with the same data (Redis replays its AOF, SecantusDB opens its
WiredTiger files), so every client reconnects to the URL it already has. The restart
does not block the supervisor: it is spawned, then looked at on every round until it
answers, exits, or runs out of time.

A restart that fails (the port was taken meanwhile, the data cannot be read) is tried
again after 1, 2, 4... seconds, up to `backoff_max_s`; so is a server that dies again
within `stable_s` of coming back (a crash loop). After `tries` such attempts in a row
the keeper gives up with an `InfrastructureError` that says why and where the server's
log is: the supervisor then stops everything and exits non-zero, since nothing can work
without it. Each death and each return is one log line.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from events.backoff import Backoff
from events.errors import InfrastructureError
from impressox.embedded.process import ChildProcess
from impressox.embedded.server import EmbeddedServer

log = structlog.get_logger(__name__)

RESTART_TRIES = 5
RESTART_BACKOFF_MAX_S = 10.0
STABLE_S = 60.0
"""A server up this long after a restart has recovered: its next death starts afresh."""


class ServerKeeper:
    """Restarts one embedded server whenever it dies; `check` it on every round."""

    def __init__(
        self,
        name: str,
        server: EmbeddedServer,
        *,
        tries: int = RESTART_TRIES,
        backoff_max_s: float = RESTART_BACKOFF_MAX_S,
        stable_s: float = STABLE_S,
        clock: Callable[[], float] = time.monotonic,
        essential: bool = True,
    ) -> None:
        """`essential`: nothing works without the server (Redis, MongoDB), so failing to
        restart it stops the system; otherwise (the local chain) only its part stops."""
        self.name = name
        self.essential = essential
        self.server = server
        self.tries = tries
        self.backoff = Backoff(1.0, backoff_max_s)
        self.stable_s = stable_s
        self.clock = clock
        self.failures = 0
        """Restarts in a row that did not hold."""
        self.down_since: float | None = None
        self.up_since = clock()
        self._restart_at: float | None = None
        self._starting: tuple[ChildProcess, float] | None = None
        """The restarted process, and when it was spawned, until it answers."""

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def check(self, process_group: int = 0) -> bool:
        """Look at the server once: reap and restart it if it died, see whether a restart
        answers yet. True when the server has just come back.

        Raises `InfrastructureError` when it could not be restarted `tries` times in a row.
        """
        now = self.clock()
        if self._starting is not None:
            return self._check_start(now, *self._starting)
        if self._restart_at is not None:
            if now >= self._restart_at:
                self._spawn(now, process_group)
            return False
        child = self.server.child
        if child is None or child.running():  # running() reaps a child that exited
            return False
        self.down_since = now
        if now - self.up_since > self.stable_s:
            self.failures = 0
        log.error(
            f"embedded {self.name} exited; restarting it",
            exit_code=child.exit_code(),
            port=self.server.port,
            log=str(self.server.data_dir / self.server.log_name),
        )
        self._schedule(now, f"it exited with code {child.exit_code()}")
        return False

    def _check_start(self, now: float, child: ChildProcess, since: float) -> bool:
        if not child.running():
            self._failed(now, f"it exited with code {child.exit_code()} while starting")
        elif self.server.answering():
            away = now - (self.down_since or now)
            self._starting = self.down_since = None
            self.up_since = now
            log.info(f"embedded {self.name} is back", down_for_s=round(away, 1),
                     port=self.server.port)  # fmt: skip
            return True
        elif now - since > self.server.startup_timeout:
            child.stop()
            self._failed(now, f"it did not answer within {self.server.startup_timeout:.0f}s")
        return False

    def _spawn(self, now: float, process_group: int) -> None:
        self._restart_at = None
        self.server.process_group = process_group
        self._starting = (self.server.spawn(), now)

    def _failed(self, now: float, reason: str) -> None:
        self._starting = None
        log.warning(f"embedded {self.name} did not restart", reason=reason,
                    attempt=self.failures)  # fmt: skip
        self._schedule(now, reason)

    def _schedule(self, now: float, reason: str) -> None:
        """The next restart: at once after a first death, then later and later."""
        if self.failures >= self.tries:
            child = self.server.child
            tail = child.log_tail() if child is not None else ""
            consequence = (
                "; nothing works without it, so everything was stopped." if self.essential else ""
            )
            raise InfrastructureError(
                f"embedded {self.name} could not be restarted after {self.tries} tries"
                f" (last: {reason}){consequence}\n{tail}"
            )
        delay = 0.0 if self.failures == 0 else self.backoff.delay_s(self.failures)
        self.failures += 1
        self._restart_at = now + delay
