"""A dependency that is down answers 503 problem+json with Retry-After, never a bare 500.

Redis and MongoDB go away (a restart, a failover, a network cut) and come back; the
clients reconnect on their own. Meanwhile a request that needed one of them is not the
caller's fault and not a bug: it gets 503 with `Retry-After`, and the detail names the
dependency but not its address or the driver's message (those go to the log). Where
the error surfaces does not matter: routes, dependencies, authentication in the
request guard, or an error that wraps the driver's (the eventsourcing library's
`OperationalError` wraps Redis's) all end up here.
"""

from __future__ import annotations

import structlog
from eventsourcing.persistence import OperationalError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from redis.exceptions import (
    ClusterDownError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

from api.problems import problem
from events.errors import InfrastructureError

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 5
"""What a refused client is told to wait: long enough for a restarted server to load."""

DEPENDENCY_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (RedisConnectionError, "Redis"),  # refused, reset, still loading after a restart
    (RedisTimeoutError, "Redis"),
    (ClusterDownError, "Redis"),
    (TryAgainError, "Redis"),  # a cluster moving slots
    (ReadOnlyError, "Redis"),  # a replica during a failover
    (OperationalError, "Redis"),  # our eventsourcing recorders on Redis
    (ConnectionFailure, "MongoDB"),  # unreachable, no primary, timed out
    (InfrastructureError, "a server it depends on"),
)
"""Errors that mean "a dependency is away", and which one, most specific first."""

MAX_CAUSES = 8


def unavailable_dependency(error: BaseException) -> str | None:
    """The dependency whose absence caused `error` (itself or a cause), else None."""
    seen: BaseException | None = error
    for _ in range(MAX_CAUSES):
        if seen is None:
            return None
        for kind, dependency in DEPENDENCY_ERRORS:
            if isinstance(seen, kind):
                return dependency
        seen = seen.__cause__ or seen.__context__
    return None


def unavailable(dependency: str) -> JSONResponse:
    """The 503 for a request that needed `dependency` while it was away."""
    response = problem(
        503,
        "Service Unavailable",
        f"{dependency} is unavailable right now; retry in {RETRY_AFTER_S}s",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def outage_response(error: BaseException, where: str) -> JSONResponse | None:
    """The 503 for `error` if a dependency being away caused it (logged), else None."""
    dependency = unavailable_dependency(error)
    if dependency is None:
        return None
    log.warning("dependency unavailable", dependency=dependency, at=where, error=repr(error))
    return unavailable(dependency)


def install_outage_handlers(app: FastAPI) -> None:
    """503 for dependency errors raised in routes; problem+json 500 for anything else."""

    async def dependency_away(request: Request, error: Exception) -> JSONResponse:
        response = outage_response(error, request.url.path)
        assert response is not None  # registered for these types only
        return response

    async def server_error(request: Request, error: Exception) -> JSONResponse:
        """A bug (or an outage wrapped in another error): never a plain-text 500."""
        response = outage_response(error, request.url.path)
        if response is not None:
            return response
        return problem(500, "Internal Server Error", "the server failed; it has been logged")

    for kind, _ in DEPENDENCY_ERRORS:
        app.add_exception_handler(kind, dependency_away)
    app.add_exception_handler(Exception, server_error)
