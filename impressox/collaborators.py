"""What one process builds once and hands out: the store, clients, services, readers.

arq builds its pool and runs its startup hook once per worker; quix-streams hands each
step a context of built collaborators. This is ours: the URLs are resolved by the caller
(the CLI: settings, else the running system's endpoints file), each collaborator is built
on first use, once, and closed here, never by the handler, route or bot it was handed to.
"""

from __future__ import annotations

from functools import cached_property

from pymongo import AsyncMongoClient

from aggregates.services.bundle import Services
from events.errors import ConfigurationError
from events.store import EventStore
from impressox.configs import knowledge_config
from impressox.connections import connect_mongo
from impressox.services import build_services
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from projections.reader import ReadModels
from projections.registry import PROJECTIONS


class Collaborators:
    def __init__(
        self, settings: Settings, store: EventStore, redis_url: str, mongo_url: str | None
    ) -> None:
        self.settings = settings
        self.store = store
        self.redis_url = redis_url
        self.mongo_url = mongo_url

    @cached_property
    def services(self) -> Services:
        return build_services(self.settings, self.redis_url)

    @cached_property
    def mongo(self) -> AsyncMongoClient[dict[str, object]]:
        if self.mongo_url is None:
            raise ConfigurationError(
                "no MONGO_URL: set it, or start the system with `impressox up`"
            )
        return connect_mongo(self.mongo_url)

    @cached_property
    def read_models(self) -> ReadModels:
        import projections.readmodels  # noqa: F401, PLC0415 - registers the read models

        return ReadModels(self.mongo[self.settings.mongo_database], PROJECTIONS.all())

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        """One per process, for the API, the agent and the indexers alike: Chroma and the
        embeddings open on first use, not here."""
        return KnowledgeBase(knowledge_config(self.settings))

    async def aclose(self) -> None:
        """Close what was built (and only that)."""
        built = self.__dict__
        if "knowledge" in built:
            await self.knowledge.aclose()
        if "mongo" in built:
            await self.mongo.close()
        if "services" in built:
            self.services.close()
