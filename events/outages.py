"""Waiting through an outage of a server we depend on: one log line when it goes, one
when it comes back, and nothing in between.

Every long-running part of Impressox (workers, projections, sources, bots, the API)
keeps going while Redis or MongoDB is away: it waits and tries again, and picks up where
it was when the server answers. Logging each retry would bury the one thing an operator
needs (what is down, since when, that it is back) under a traceback per second, so a
process keeps one `Outage` per dependency: the first failure logs that the dependency is
unavailable, the first success after it logs that it is back and how long it was away.

`redis_unavailable` tells a server that is away (refused, reset, timed out, still
loading its data) from a refusal by a server that answers (a bad command, a wrong
password): only the first is worth waiting for.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from events.backoff import Backoff
from events.stopping import sleep_unless_stopped

log = structlog.get_logger(__name__)

T = TypeVar("T")

FIRST_RETRY_S = 0.1
MAX_RETRY_S = 2.0
"""Retries while a server is away: short enough that work resumes within two seconds of
its return, long enough not to spin."""

_AWAY = (RedisConnectionError, RedisTimeoutError, ClusterDownError, TryAgainError,
         RedisClusterUnreachableError, SlotNotCoveredError)  # fmt: skip
_REFUSED = (AuthenticationError, AuthorizationError)


def redis_unavailable(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says Redis is away (not refusing).

    The chain is walked because our layers re-raise (the eventsourcing recorders raise
    the library's `OperationalError` from redis-py's `ConnectionError`).
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _AWAY) and not isinstance(seen, _REFUSED):
            return True
        seen = seen.__cause__
    return False


class Outage:
    """Whether one dependency is away right now, and the two log lines that say so."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self.since: float | None = None
        self.backoff = Backoff(FIRST_RETRY_S, MAX_RETRY_S)
        """Not jittered: one waiter per process and dependency, nobody to fall in step with."""

    def failed(self, error: BaseException, **context: object) -> float:
        """Record a failed attempt (logged only if it starts an outage); returns how long
        to wait before the next one."""
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                f"{self.dependency} unavailable; waiting for it",
                dependency=self.dependency,
                error=str(error) or type(error).__name__,
                pid=os.getpid(),  # under `impressox up`, which process is waiting
                **context,
            )
        return self.backoff.next_delay()

    def succeeded(self) -> None:
        """Record a successful call: ends the outage, if there was one, with a log line."""
        if self.since is None:
            return
        away = time.monotonic() - self.since
        self.since = None
        self.backoff.reset()
        log.info(
            f"{self.dependency} is back",
            dependency=self.dependency,
            down_for_s=round(away, 1),
            pid=os.getpid(),
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
