"""Prometheus metrics of the whole system, at /metrics (an ``admin`` key, no /v1 prefix).

Besides this process's own figures (CPU, memory, garbage collection), a scrape exports
what every worker and projector is doing, read from Redis and MongoDB: streams' lengths,
each handler's lag, pending and counters per stream, and each read model's backlog. Those
are refreshed on a scrape at most every `CACHE_S` seconds (one refresh however many
scrapers ask at once), so scraping stays cheap however often it happens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from api.context import ApiContext
from api.deps import Admin, Context
from api.reading import problem_responses
from api.stream_statuses import streams_status
from handlers.exporter import StreamsCollector
from projections.generations import Generations
from projections.rebuild import ProjectionStatus, projection_statuses

log = structlog.get_logger(__name__)

router = APIRouter(tags=["metrics"])

CACHE_S = 5.0


class ProjectionsCollector(Collector):
    """Exports the latest projection statuses: backlog and generation per read model."""

    def __init__(self) -> None:
        self.snapshot: list[ProjectionStatus] = []

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily(
            "impressox_projection_backlog",
            "Events a read model's generation has yet to apply.",
            labels=["projection", "generation", "role"],
        )
        active = GaugeMetricFamily(
            "impressox_projection_active_generation",
            "The generation of a read model that serves reads.",
            labels=["projection"],
        )
        for status in self.snapshot:
            active.add_metric([status.name], status.active.number)
            backlog.add_metric(
                [status.name, str(status.active.number), "active"], status.active_backlog
            )
            if status.building is not None and status.building_backlog is not None:
                backlog.add_metric(
                    [status.name, str(status.building.number), "building"],
                    status.building_backlog,
                )
        yield backlog
        yield active


class ApiMetrics:
    """This app's registry: process metrics, and the system's figures, refreshed lazily."""

    def __init__(self, *, stall_after_s: float, cache_s: float = CACHE_S) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.streams = StreamsCollector(stall_after_s=stall_after_s)
        self.projections = ProjectionsCollector()
        self.registry.register(self.streams)
        self.registry.register(self.projections)
        self.cache_s = cache_s
        self._refreshed_at = float("-inf")
        self._lock = asyncio.Lock()

    async def render(self, context: ApiContext) -> bytes:
        async with self._lock:
            if time.monotonic() - self._refreshed_at >= self.cache_s:
                await self._refresh(context)
                self._refreshed_at = time.monotonic()
        return generate_latest(self.registry)

    async def _refresh(self, context: ApiContext) -> None:
        """New snapshots; on an outage the last ones stay (and a warning is logged)."""
        try:
            self.streams.snapshot = await streams_status(context.redis, context.store.names)
            self.projections.snapshot = await projection_statuses(
                list(context.read_models.projections.values()),
                context.store,
                Generations(context.database),
            )
        except (RedisError, PyMongoError) as error:
            log.warning("cannot refresh system metrics", error=str(error))


def _metrics_of(request: Request, context: ApiContext) -> ApiMetrics:
    """The app's metrics, made on first scrape (per app: tests run several apps)."""
    metrics: ApiMetrics | None = getattr(request.app.state, "metrics", None)
    if metrics is None:
        metrics = request.app.state.metrics = ApiMetrics(stall_after_s=context.config.stall_after_s)
    return metrics


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics: this process, streams, handlers, read models",
    responses={
        200: {
            "description": "The Prometheus text format.",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 403, 429),
    },
)
async def metrics(request: Request, context: Context, admin: Admin) -> Response:
    body = await _metrics_of(request, context).render(context)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
