"""What every request may use, built once in the app's lifespan and closed with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import HTTPConnection

from aggregates.rule_spec import RuleSpec
from aggregates.services.bundle import Services
from api.config import ApiConfig
from api.keys import KeyAuthenticator
from api.live.deltas import ReplyDeltas
from api.live.hub import Hub
from api.live.registry import LiveSessions
from api.rate_limit import RateLimiter
from events.redis_client import RedisClient
from events.store import EventStore
from knowledge.base import KnowledgeBase
from projections.model import Document
from projections.reader import ReadModels
from projections.rule_health import RuleHealthReader


class ContractEvents(Protocol):
    async def refuse_unknown(self, spec: RuleSpec) -> None:
        """Refuse a chain rule naming an event (or an argument) its contract does not
        declare (`chain.contract_events`, built by the composition root)."""
        ...


@dataclass
class ApiContext:
    config: ApiConfig
    redis: RedisClient
    mongo: AsyncMongoClient[Document]
    database: AsyncDatabase[Document]
    store: EventStore
    services: Services
    """The aggregates' application services: synchronous, call them from threads."""
    read_models: ReadModels
    rule_health: RuleHealthReader
    """Whether each rule can fire, from the read models and what the settings say."""
    keys: KeyAuthenticator
    limiter: RateLimiter
    hub: Hub
    """Shared stream readers for WebSocket clients, on a Redis client of their own."""
    knowledge: KnowledgeBase
    """The knowledge base, for searches; Chroma is opened on the first one."""
    deltas: ReplyDeltas
    """The agent's reply text while it is written, for clients following a conversation."""
    sessions: LiveSessions
    """The open WebSocket sessions by API key, closed when their key is revoked."""
    contract_events: ContractEvents
    """The events each contract declares: a chain rule naming another one is refused."""


async def api_context(connection: HTTPConnection) -> ApiContext:
    """The request's `ApiContext` (the `Context` dependency of `api.deps`)."""
    context: ApiContext = connection.app.state.context
    return context
