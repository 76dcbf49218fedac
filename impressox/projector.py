"""Running the read models as a process: `impressox projections run`.

SIGTERM or Ctrl-C stops every projection gracefully (each finishes its batch and hands
its partitions back), like `impressox worker`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from datetime import timedelta

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from events.store import EventStore
from handlers.config import RuntimeConfig
from impressox.connections import connect_mongo, connect_redis
from impressox.settings import Settings
from impressox.workers import runtime_config
from projections.model import Document, Projection
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner

log = structlog.get_logger(__name__)


def configured_projections(settings: Settings) -> list[Projection]:
    """The read models this deployment keeps (IMPRESSOX_PROJECTIONS, else all)."""
    if settings.projections is None:
        return PROJECTIONS.all()
    return [PROJECTIONS.get(name) for name in settings.projections]


def projector_config(settings: Settings) -> RuntimeConfig:
    """The runtime's knobs for projections: larger batches coalesce more writes."""
    return dataclasses.replace(runtime_config(settings), batch_size=settings.projection_batch_size)


def projection_runner(
    settings: Settings,
    store: EventStore,
    database: AsyncDatabase[Document],
    projections: list[Projection],
) -> ProjectionRunner:
    return ProjectionRunner(
        projections=projections,
        store=store,
        database=database,
        config=projector_config(settings),
        retire_grace=timedelta(seconds=settings.retire_grace_s),
    )


async def serve_projections(
    settings: Settings, redis_url: str, mongo_url: str, projections: list[Projection]
) -> None:
    """Keep `projections` up to date until SIGTERM/SIGINT."""
    redis = await connect_redis(redis_url, wait=True)
    mongo = connect_mongo(mongo_url)
    store = EventStore(redis, settings.stream_names())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        runner = projection_runner(settings, store, mongo[settings.mongo_database], projections)
        await runner.run(stop)
    finally:
        await redis.aclose()
        await mongo.close()
