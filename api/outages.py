"""A dependency that is down answers 503 problem+json with Retry-After, never a bare 500.

Redis and MongoDB go away (a restart, a failover, a network cut) and come back; the
clients reconnect on their own. Meanwhile a request that needed one of them is not the
caller's fault and not a bug: it gets 503 with `Retry-After`, and the detail names the
dependency but not its address or the driver's message (those go to the log). Where
the error surfaces does not matter: routes, dependencies, authentication in the
request guard, or an error that wraps the driver's (the eventsourcing library's
`OperationalError` wraps Redis's) all end up here.

Which errors mean a dependency is away is not decided here: `events.outages` holds the
one table the workers wait by too. This module only maps it to HTTP. A dependency that
refuses us (a wrong Redis password) is a 503 all the same, since the caller is not at
fault, but it is logged as an error naming the cause: an operator has to fix it.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.problems import problem
from events.outages import UNAVAILABLE, unavailable

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 5
"""What a refused client is told to wait: long enough for a restarted server to load."""


def unavailable_response(dependency: str) -> JSONResponse:
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
    found = unavailable(error)
    if found is None:
        return None
    if found.verdict == "refused":  # configuration: an operator must act, waiting will not do
        log.error(
            f"{found.dependency} refuses us: check its credentials and permissions",
            dependency=found.dependency,
            at=where,
            cause=repr(found.cause),
        )
    else:
        log.warning(
            "dependency unavailable", dependency=found.dependency, at=where, error=repr(error)
        )
    return unavailable_response(found.dependency)


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

    for kind, _, _ in UNAVAILABLE:
        app.add_exception_handler(kind, dependency_away)
    app.add_exception_handler(Exception, server_error)
