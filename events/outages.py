"""Waiting through an outage of a server we depend on: one log line when it goes, one
when it comes back, and nothing in between.

Every long-running part of Impressox (workers, projections, sources, bots, the API)
keeps going while Redis or MongoDB is away: it waits and tries again, and picks up where
it was when the server answers. Logging each retry would bury the one thing an operator
needs (what is down, since when, that it is back) under a traceback per second, so a
process keeps one `Outage` per dependency: the first failure logs that the dependency is
unavailable, the first success after it logs that it is back and how long it was away.
Calls in flight as it returns may still fail just after it: those settle quietly
(`SETTLE_S`) rather than start another outage.

`unavailable` reads an error (and the errors it was raised from) against one table, for
every part of Impressox: which dependency is away, and whether waiting can help.

- "away": the server does not answer, or not yet (refused, reset, timed out, still
  loading its data, a cluster moving slots, a replica not yet promoted in a failover).
  It passes by itself: workers wait it out (`redis_unavailable`), the API answers 503.
- "refused": the server answers and refuses us (a wrong password, an ACL without the
  command). That is configuration, not an outage: waiting cannot fix it, so workers
  fail on it; the API still answers 503 (the caller is not at fault) but logs it as
  an error naming the cause, for the operator.
- "reported": an error of a layer above the driver says a dependency failed (the
  eventsourcing library's `OperationalError`, our `InfrastructureError`) and nothing
  under it says why. The API answers 503; workers do not wait, since nothing says the
  failure will pass.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import structlog
from eventsourcing.persistence import OperationalError
from pymongo.errors import ConnectionFailure
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    ReadOnlyError,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from events.backoff import Backoff
from events.errors import InfrastructureError
from events.stopping import sleep_unless_stopped

log = structlog.get_logger(__name__)

T = TypeVar("T")

FIRST_RETRY_S = 0.1
MAX_RETRY_S = 2.0
"""Retries while a server is away: short enough that work resumes within two seconds of
its return, long enough not to spin."""

Verdict = Literal["away", "refused", "reported"]
"""What an error says of a dependency: see the module's docstring."""

UNAVAILABLE: tuple[tuple[type[Exception], str, Verdict], ...] = (
    (AuthenticationError, "Redis", "refused"),  # a wrong password (a ConnectionError too)
    (AuthorizationError, "Redis", "refused"),  # an ACL without the command
    (RedisConnectionError, "Redis", "away"),  # refused, reset, still loading after a restart
    (RedisTimeoutError, "Redis", "away"),
    (ClusterDownError, "Redis", "away"),
    (TryAgainError, "Redis", "away"),  # a cluster moving slots
    (RedisClusterUnreachableError, "Redis", "away"),
    (SlotNotCoveredError, "Redis", "away"),
    (ReadOnlyError, "Redis", "away"),  # a replica during a failover, until one is promoted
    (ConnectionFailure, "MongoDB", "away"),  # unreachable, no primary, timed out
    (OperationalError, "Redis", "reported"),  # our eventsourcing recorders are on Redis
    (InfrastructureError, "a server it depends on", "reported"),
)
"""Errors that say a dependency is away or refuses us, and which one; first match wins."""

MAX_CAUSES = 8
"""How far down a chain of wrapped errors to look (a chain can loop)."""


@dataclass(frozen=True)
class Unavailable:
    """A dependency `error` was caused by: which one, the error that says so, the verdict."""

    dependency: str
    cause: BaseException
    verdict: Verdict


def unavailable(error: BaseException) -> Unavailable | None:
    """Whether `error` came of a dependency being away (or refusing us), and which.

    The chain is walked (`__cause__`, else `__context__`) because our layers re-raise:
    the eventsourcing recorders raise the library's `OperationalError` from redis-py's
    `ConnectionError`, a rule load wraps that again. The driver's own error, where there
    is one in the chain, gives the verdict; a wrapper only when there is none.
    """
    reported: Unavailable | None = None
    seen: BaseException | None = error
    for _ in range(MAX_CAUSES):
        if seen is None:
            break
        for kind, dependency, verdict in UNAVAILABLE:
            if isinstance(seen, kind):
                found = Unavailable(dependency, seen, verdict)
                if verdict != "reported":
                    return found
                reported = reported or found
                break
        seen = seen.__cause__ or seen.__context__
    return reported


def unavailable_dependency(error: BaseException) -> str | None:
    """The dependency whose absence (or refusal) caused `error`, else None."""
    found = unavailable(error)
    return None if found is None else found.dependency


def redis_unavailable(error: BaseException) -> bool:
    """Whether `error` says Redis is away, so that waiting for it is worth it: not when
    it refuses us (configuration), nor when only a wrapper says something failed."""
    found = unavailable(error)
    return found is not None and found.dependency == "Redis" and found.verdict == "away"


SETTLE_S = 2.0
"""After a dependency is back, a failure this soon is a call that was in flight as it
returned (or a connection from before it went): the outage just ended, not a new one.
It is logged only if failures go on for this long."""


class Outage:
    """Whether one dependency is away right now, and the two log lines that say so."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self.since: float | None = None
        self.back_at: float | None = None
        self.unsaid_until: float | None = None
        """While failing again right after coming back: when that becomes worth a line."""
        self.backoff = Backoff(FIRST_RETRY_S, MAX_RETRY_S)
        """Not jittered: one waiter per process and dependency, nobody to fall in step with."""

    def failed(self, error: BaseException, **context: object) -> float:
        """Record a failed attempt (logged only if it starts an outage); returns how long
        to wait before the next one."""
        now = time.monotonic()
        if self.since is None:
            self.since = now
            if self.back_at is not None and now - self.back_at < SETTLE_S:
                self.unsaid_until = now + SETTLE_S
            else:
                self._say_unavailable(error, context)
        elif self.unsaid_until is not None and now >= self.unsaid_until:
            self.unsaid_until = None
            self._say_unavailable(error, context)
        return self.backoff.next_delay()

    def succeeded(self) -> None:
        """Record a successful call: ends the outage, if there was one, with a log line
        (none for failures that settled before they were said)."""
        if self.since is None:
            return
        now = time.monotonic()
        away = now - self.since
        self.since = None
        self.backoff.reset()
        if self.unsaid_until is not None:
            self.unsaid_until = None
            return
        self.back_at = now
        log.info(
            f"{self.dependency} is back",
            dependency=self.dependency,
            down_for_s=round(away, 1),
            pid=os.getpid(),
        )

    def _say_unavailable(self, error: BaseException, context: dict[str, object]) -> None:
        log.warning(
            f"{self.dependency} unavailable; waiting for it",
            dependency=self.dependency,
            error=str(error) or type(error).__name__,
            pid=os.getpid(),  # under `impressox up`, which process is waiting
            **context,
        )

    async def wait(self, error: BaseException, stop: asyncio.Event | None = None) -> bool:
        """`failed(error)`, then sleep the delay it gives; True if `stop` was set first."""
        delay = self.failed(error)
        if stop is None:
            await asyncio.sleep(delay)
            return False
        return await sleep_unless_stopped(stop, delay)


_OUTAGES: dict[str, Outage] = {}


def outage(dependency: str) -> Outage:
    """This process's record of `dependency` ("Redis", "MongoDB"): every part of a process
    shares it, so an outage is logged once per process, not once per partition."""
    found = _OUTAGES.get(dependency)
    if found is None:
        found = _OUTAGES[dependency] = Outage(dependency)
    return found


async def through_redis_outage(
    call: Callable[[], Awaitable[T]], stop: asyncio.Event | None = None
) -> T:
    """`call()`, tried again and again while Redis is away: for idempotent calls only
    (appends are, by event id), so trying again after a lost reply writes nothing twice.

    Once `stop` is set, a failure is raised instead of waited out: a process told to
    stop while Redis is away stops, rather than wait for a Redis that may not come back.
    """
    redis = outage("Redis")
    while True:
        try:
            result = await call()
        except Exception as error:
            if not redis_unavailable(error) or (stop is not None and stop.is_set()):
                raise
            await redis.wait(error, stop)
        else:
            redis.succeeded()
            return result
