"""Liveness and readiness: the two endpoints that need no key.

`/healthz` says the process is up (restart it if not); `/readyz` says it can serve
(Redis and MongoDB answer, no read model is more than IMPRESSOX_READY_MAX_LAG events
behind, no handler's partition is stalled: work waiting IMPRESSOX_STALL_AFTER_S
without it advancing, see `handlers.monitoring`, and every chat bot that reports is
connected to its platform, see `bots.health`), so a load balancer sends traffic only
where it can succeed. The read models' backlog is worked out at most every
`LAG_CACHE_S` seconds and the handlers' partitions every `STALL_CACHE_S`, so probes
stay cheap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from api.context import ApiContext
from api.deps import Context
from api.problems import problem
from api.stream_statuses import streams_status
from projections.generations import Generations
from projections.runner import backlog

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0
LAG_CACHE_S = 1.0
STALL_CACHE_S = 5.0
STALLS_SHOWN = 5
BOT_PLATFORMS = ("telegram", "discord")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]
    """Each dependency's result ("ok" or what failed), then the read models' (when both
    answer)."""


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Redis and MongoDB answer; read models are not too far behind; no handler is stalled",
    responses={503: {"description": "Not ready; the detail says which dependency or read model"}},
)
async def readyz(request: Request, context: Context) -> Readiness | JSONResponse:
    checks = {
        "redis": await _check(context.redis.ping()),
        "mongodb": await _check(context.mongo.admin.command("ping")),
    }
    if all(result == "ok" for result in checks.values()):
        checks["projections"] = await _lagging_projections(request, context)
        checks["handlers"] = await _stalled_partitions(request, context)
        checks["bots"] = await _bots(context)
    failing = {name: result for name, result in checks.items() if result != "ok"}
    if failing:
        detail = "; ".join(f"{name}: {result}" for name, result in failing.items())
        return problem(503, "Not ready", detail, checks=checks)
    return Readiness(status="ready", checks=checks)


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_S:.0f}s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


async def _lagging_projections(request: Request, context: ApiContext) -> str:
    """The read models' check: which active ones are more than `ready_max_lag` behind.

    Only read models a projector has started count: a deployment that runs some of
    them (IMPRESSOX_PROJECTIONS) is not held back by the others.
    """
    cached: tuple[float, str] | None = getattr(request.app.state, "projections_check", None)
    if cached is not None and time.monotonic() - cached[0] < LAG_CACHE_S:
        return cached[1]
    limit = context.config.ready_max_lag
    try:
        behind = await asyncio.wait_for(_behind(context, limit), CHECK_TIMEOUT_S)
    except TimeoutError:
        result = f"no answer within {CHECK_TIMEOUT_S:.0f}s"
    except (RedisError, PyMongoError) as error:
        result = f"{type(error).__name__}: {error}"
    else:
        result = f"{', '.join(behind)} (IMPRESSOX_READY_MAX_LAG={limit})" if behind else "ok"
    request.app.state.projections_check = (time.monotonic(), result)
    return result


async def _stalled_partitions(request: Request, context: ApiContext) -> str:
    """The handlers' check: which partitions have work waiting that has not moved for
    `stall_after_s` (a handler, named with its stream, and for how long)."""
    cached: tuple[float, str] | None = getattr(request.app.state, "stalls_check", None)
    if cached is not None and time.monotonic() - cached[0] < STALL_CACHE_S:
        return cached[1]
    after_s = context.config.stall_after_s
    try:
        statuses = await asyncio.wait_for(
            streams_status(context.redis, context.store.names), CHECK_TIMEOUT_S
        )
    except TimeoutError:
        result = f"no answer within {CHECK_TIMEOUT_S:.0f}s"
    except RedisError as error:
        result = f"{type(error).__name__}: {error}"
    else:
        stalled = [
            f"{group.group} on {status.stream} for {group.waiting_s:.0f}s"
            for status in statuses
            for group in status.groups
            if group.stalled(after_s)
        ]
        more = f" and {len(stalled) - STALLS_SHOWN} more" if len(stalled) > STALLS_SHOWN else ""
        shown = ", ".join(stalled[:STALLS_SHOWN]) + more
        result = f"stalled: {shown} (IMPRESSOX_STALL_AFTER_S={after_s:g})" if stalled else "ok"
    request.app.state.stalls_check = (time.monotonic(), result)
    return result


async def _bots(context: ApiContext) -> str:
    """The chat bots' check: each bot that reports (its health hash has not expired)
    must be connected to its platform. A bot that stopped reporting is not checked: its
    process is gone, and `impressox up` is restarting it."""
    names = context.store.names
    disconnected = []
    try:
        for platform in BOT_PLATFORMS:
            connected = await context.redis.hget(names.bot_health(platform), "connected")
            if connected is not None and connected not in (b"1", "1"):
                disconnected.append(platform)
    except RedisError as error:
        return f"{type(error).__name__}: {error}"
    return f"not connected: {', '.join(disconnected)}" if disconnected else "ok"


async def _behind(context: ApiContext, limit: int) -> list[str]:
    behind = []
    for state in await Generations(context.database).all():
        projection = context.read_models.projections.get(state.name)
        if projection is None:
            continue
        events = await backlog(projection, state.active, context.store)
        if events > limit:
            behind.append(f"{state.name} is {events} events behind")
    return behind
