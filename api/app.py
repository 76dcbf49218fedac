"""The FastAPI application: built by `create_app` at startup, never at import.

Clients are created in the lifespan from the URLs given, and closed on shutdown, so
tests and the supervisor decide what the app talks to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from api.problems import install_problem_handlers
from api.routes import health
from impressox.connections import connect_mongo, connect_redis


def create_app(*, redis_url: str, mongo_url: str) -> FastAPI:
    """The API, talking to the Redis and MongoDB at these URLs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = await connect_redis(redis_url)
        app.state.mongo = connect_mongo(mongo_url)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await app.state.mongo.close()

    app = FastAPI(
        title="Impressox",
        version=version("impressox"),
        summary="An event-sourced agent platform for crypto and DeFi traders.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    return app
