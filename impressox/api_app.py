"""The API as a process runs it: what requests use, built in the app's lifespan.

Clients are created in the lifespan from the URLs given, and closed on shutdown, so
tests and the supervisor decide what the app talks to; `api.app` assembles the routes
around this lifespan.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from api.app import GC_THRESHOLDS, build_app
from api.config import ApiConfig
from api.context import ApiContext
from api.key_log import KeyLog
from api.key_table import KeyTable
from api.keys import KeyAuthenticator
from api.live.deltas import ReplyDeltas
from api.live.hub import Hub
from api.live.registry import LiveSessions
from api.rate_limit import RateLimiter
from chain.presence import WatcherPresence
from events.store import EventStore
from handlers.token_bucket import Rate
from impressox.chain_watcher import contract_events
from impressox.configs import knowledge_config
from impressox.connections import connect_mongo, connect_redis
from impressox.modules import load_handlers
from impressox.services import build_services
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from projections.reader import ReadModels
from projections.registry import PROJECTIONS, READ_MODEL_MODULES
from projections.rule_health import RuleHealthReader


def create_app(settings: Settings, *, redis_url: str, mongo_url: str) -> FastAPI:
    """The API for `settings`, talking to the Redis and MongoDB at these URLs."""
    load_handlers([*READ_MODEL_MODULES, *settings.modules])

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
        knowledge_reader = KnowledgeBase(knowledge_config(settings))
        key_table = KeyTable(redis, settings.stream_names())
        keys = KeyAuthenticator(key_table, cache_s=settings.auth_cache_s)
        key_log = KeyLog(await connect_redis(redis_url), key_table, block_ms=settings.block_ms)
        sessions = LiveSessions(keys, recheck_s=settings.auth_cache_s)
        key_log.on_revoked(keys.forget)
        key_log.on_revoked(sessions.revoked)
        await key_log.start()  # caught up: no key issued before startup is refused
        store = EventStore(redis, settings.stream_names())
        app.state.context = ApiContext(
            config=api_config(settings),
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

    return build_app(lifespan, max_body_bytes=settings.max_body_bytes, web_dir=settings.web_dir)


def api_config(settings: Settings) -> ApiConfig:
    return ApiConfig(
        max_wait_s=settings.max_wait_s,
        ready_max_lag=settings.ready_max_lag,
        stall_after_s=settings.stall_after_s,
        ws_queue_size=settings.ws_queue_size,
        ws_messages_per_minute=settings.ws_messages_per_minute,
        ws_message_burst=settings.ws_message_burst,
    )
