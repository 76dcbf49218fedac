"""Liveness and readiness: the two endpoints that need no key.

`/healthz` says the process is up (restart it if not); `/readyz` says it can serve
(Redis and MongoDB answer), so a load balancer sends traffic only where it can succeed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.context import Context
from api.problems import problem

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Redis and MongoDB answer",
    responses={503: {"description": "Not ready; the detail says which dependency failed"}},
)
async def readyz(context: Context) -> Readiness | JSONResponse:
    checks = {
        "redis": await _check(context.redis.ping()),
        "mongodb": await _check(context.mongo.admin.command("ping")),
    }
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
