"""Handler contexts for tests, built by the composition root as a worker builds them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.store import EventStore
from handlers.declaration import HANDLERS, HandlerContext
from impressox.collaborators import Collaborators
from impressox.contexts import C, build_context

if TYPE_CHECKING:
    from impressox.settings import Settings


class Contexts:
    """Handler contexts built by the composition root, as a worker builds them; what
    they hold (services, clients) is closed after the test."""

    def __init__(self, store: EventStore, redis_url: str) -> None:
        self.store = store
        self._redis_url = redis_url
        self._built: list[Collaborators] = []

    def of(self, kind: type[C], settings: Settings, store: EventStore | None = None) -> C:
        """A `kind` on `settings` (their REDIS_URL, else the session's Redis)."""
        built = Collaborators(
            settings,
            store or self.store,
            settings.redis_url or self._redis_url,
            settings.mongo_url,
        )
        self._built.append(built)
        return build_context(kind, built)

    def handler(self, name: str, settings: Settings) -> HandlerContext:
        """The context of the registered handler `name`."""
        return self.of(HANDLERS.get(name).context, settings)

    async def aclose(self) -> None:
        for built in self._built:
            await built.aclose()
