"""Running one handler as a process: `impressox worker NAME`.

SIGTERM or Ctrl-C starts a graceful shutdown (see `handlers.worker`); a second one
cancels what is still running. With a metrics port, the process serves Prometheus
metrics on 127.0.0.1: its own, and its group's lag, pending and counters from Redis.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable

import structlog
from prometheus_client import REGISTRY, start_http_server
from redis.exceptions import RedisError

from events.errors import InfrastructureError
from events.outages import redis_unavailable, through_redis_outage
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.declaration import HandlerContext, HandlerSpec
from handlers.exporter import StreamsCollector, refresh_forever
from handlers.leases import live_members
from handlers.worker import Worker
from impressox.collaborators import Collaborators
from impressox.connections import connect_redis
from impressox.contexts import handler_context
from impressox.settings import Settings

log = structlog.get_logger(__name__)


def runtime_config(settings: Settings) -> RuntimeConfig:
    """The runtime's knobs, from settings."""
    return RuntimeConfig(
        batch_size=settings.batch_size,
        block_ms=settings.block_ms,
        max_deliveries=settings.max_deliveries,
        retry_backoff_ms=settings.retry_backoff_ms,
        retry_backoff_max_ms=settings.retry_backoff_max_ms,
        handler_timeout_s=settings.handler_timeout_s,
        lease_ttl_ms=settings.lease_ttl_ms,
        shutdown_timeout_s=settings.shutdown_timeout_s,
    )


async def serve_worker(
    settings: Settings,
    spec: HandlerSpec,
    redis_url: str,
    mongo_url: str | None,
    *,
    metrics_port: int | None,
) -> None:
    """Run `spec` until SIGTERM/SIGINT, then shut down gracefully."""
    redis = await connect_redis(redis_url, wait=True)
    store = EventStore(redis, settings.stream_names())
    collaborators = Collaborators(settings, store, redis_url, mongo_url)
    stop = asyncio.Event()
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set() and main is not None:
            log.warning("second signal: cancelling in-flight work")
            main.cancel()
            return
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    refresher: asyncio.Task[None] | None = None
    if metrics_port is not None:
        collector = StreamsCollector(stall_after_s=settings.stall_after_s)
        REGISTRY.register(collector)
        start_http_server(metrics_port, addr="127.0.0.1")
        refresher = asyncio.create_task(
            refresh_forever(collector, redis, store.names, groups={spec.name})
        )
        log.info("serving metrics", url=f"http://127.0.0.1:{metrics_port}/metrics")
    try:
        worker = await build_worker(
            spec,
            store,
            lambda: handler_context(spec, collaborators),
            runtime_config(settings),
            stop,
        )
        if worker is None:
            return
        # What start-up built (the handler, its clients, the agent's models and vocabulary:
        # ~150k objects with langchain) is never garbage: frozen, a full collection no
        # longer walks it (~0.2 s, in whichever event it fell).
        gc.freeze()
        await worker.run(stop)
    finally:
        if refresher is not None:
            refresher.cancel()
        await collaborators.aclose()
        await redis.aclose()


async def build_worker(
    spec: HandlerSpec,
    store: EventStore,
    context: Callable[[], HandlerContext],
    config: RuntimeConfig,
    stop: asyncio.Event | None = None,
) -> Worker | None:
    """The worker, its context and handler built: building either may read Redis (the
    applications of the services), and waits for a Redis that went away meanwhile, like
    the rest of the worker, instead of ending the process. None if told to stop while
    waiting: a process whose Redis went for good (its supervisor was killed) must end."""

    async def build() -> Worker:
        return Worker(spec, store, config, context())

    try:
        return await through_redis_outage(build, stop)
    except Exception as error:
        if stop is not None and stop.is_set() and redis_unavailable(error):
            log.info("stopped while waiting for Redis", handler=spec.name)
            return None
        raise


async def live_consumers(settings: Settings, redis_url: str, group: str) -> list[str]:
    """Consumers of `group` whose heartbeat has not expired (for `worker --check`)."""
    redis = await connect_redis(redis_url)
    try:
        return await live_members(redis, settings.stream_names(), group)
    except RedisError as error:
        raise InfrastructureError(f"cannot read the members of {group!r}: {error}") from None
    finally:
        await redis.aclose()
