"""The FastAPI application: built by `create_app` at startup, never at import.

Clients are created in the lifespan from the URLs given, and closed on shutdown, so
tests and the supervisor decide what the app talks to. Everything under ``/v1`` needs
an API key (see `api.auth`); /healthz, /readyz and the docs do not.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from redis.asyncio import Redis

from api.context import ApiContext
from api.guard import RequestGuard
from api.key_log import KeyLog
from api.key_table import KeyTable
from api.keys import KeyAuthenticator
from api.live.deltas import ReplyDeltas
from api.live.hub import Hub
from api.live.registry import LiveSessions
from api.outages import install_outage_handlers
from api.problems import install_problem_handlers
from api.rate_limit import RateLimiter
from api.routes import (
    account,
    admin,
    chain,
    conversations,
    event_types,
    feeds,
    health,
    ingest,
    knowledge,
    market,
    metrics,
    rules,
    scratch,
    websocket,
)
from api.web_page import install_web_page, locate_bundle
from events.store import EventStore
from handlers.declaration import load_modules
from handlers.token_bucket import Rate
from impressox.chain_presence import WatcherPresence
from impressox.chain_watcher import contract_events
from impressox.connections import connect_mongo, connect_redis
from impressox.services import build_services
from impressox.settings import Settings
from knowledge.reader import KnowledgeReader
from projections.reader import ReadModels
from projections.registry import PROJECTIONS, READ_MODEL_MODULES
from projections.rule_health import RuleHealthReader

V1 = "/v1"

GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds for the API process. Python's defaults (700, 10, 10)
collect every few requests and, with the process's long-lived objects frozen out of its
sight (`gc.freeze` after startup), make full collections frequent: at 500 GET/s those
pauses were the p99 (117-149 ms against 9 ms), and with a thousand WebSocket clients
the fan-out's (130-220 ms against 44 ms). Measured with bench.readside and bench.ws_fanout."""


def create_app(settings: Settings, *, redis_url: str, mongo_url: str) -> FastAPI:
    """The API for `settings`, talking to the Redis and MongoDB at these URLs."""
    load_modules([*READ_MODEL_MODULES, *settings.modules])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = await connect_redis(redis_url, wait=True)
        mongo = connect_mongo(mongo_url)
        database = mongo[settings.mongo_database]
        read_models = ReadModels(database, PROJECTIONS.all())
        services = build_services(settings, redis_url)
        hub_redis = await connect_redis(redis_url)  # its own: blocking reads hold connections
        hub = Hub(hub_redis, settings.stream_names(), block_ms=settings.block_ms)
        deltas = ReplyDeltas(Redis.from_url(redis_url))  # a node of a cluster will do
        knowledge_reader = KnowledgeReader(settings)
        key_table = KeyTable(redis, settings.stream_names())
        keys = KeyAuthenticator(key_table, cache_s=settings.auth_cache_s)
        key_log = KeyLog(await connect_redis(redis_url), key_table, block_ms=settings.block_ms)
        sessions = LiveSessions(keys, recheck_s=settings.auth_cache_s)
        key_log.on_revoked(keys.forget)
        key_log.on_revoked(sessions.revoked)
        await key_log.start()  # caught up: no key issued before startup is refused
        store = EventStore(redis, settings.stream_names())
        app.state.context = ApiContext(
            settings=settings,
            redis=redis,
            mongo=mongo,
            database=database,
            store=store,
            services=services,
            read_models=read_models,
            rule_health=RuleHealthReader(
                read_models,
                chain_watched=settings.chain_watched,
                stale_after_s=settings.source_stale_after_s,
                presence=WatcherPresence(
                    redis, settings.stream_names(), configured=settings.chain_watched
                ),
            ),
            keys=keys,
            limiter=RateLimiter(
                redis,
                settings.stream_names(),
                per_key=Rate(settings.rate_limit_per_minute, settings.rate_limit_burst),
                per_user=Rate(settings.user_rate_limit_per_minute, settings.user_rate_limit_burst),
                per_address=Rate(
                    settings.anonymous_rate_limit_per_minute, settings.anonymous_rate_limit_burst
                ),
            ),
            hub=hub,
            knowledge=knowledge_reader,
            deltas=deltas,
            sessions=sessions,
            contract_events=contract_events(settings, store),
        )
        gc.freeze()  # what startup built lives as long as the process: never walk it again
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            await key_log.close()
            await sessions.close()
            await hub.close()
            await knowledge_reader.aclose()
            await deltas.close()
            services.close()
            await redis.aclose()
            await mongo.close()

    # The docs' scripts and styles are served by the app itself: an air-gapped box has no CDN.
    app = FastAPIOffline(
        title="Impressox",
        version=version("impressox"),
        summary="An event-sourced agent platform for crypto and DeFi traders.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    install_outage_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)

    app.include_router(health.router)
    app.include_router(metrics.router)
    routed = (
        account, rules, conversations, market, feeds, chain, ingest, knowledge,
        admin, event_types, scratch, websocket,
    )  # fmt: skip
    for module in routed:
        app.include_router(module.router, prefix=V1)
    install_web_page(app, locate_bundle(settings.web_dir))
    return app
