"""Reading read models: the active generation's collection, and waiting for a position.

Readers look the active generation up in the state collection, cached for `cache_s`,
so a swap reaches every reader within that time; the retired collection is dropped
only after a grace period much longer than that, so no reader ever finds it gone.
"""

from __future__ import annotations

import asyncio
import time

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from events.names import StreamNames
from events.position import Position
from events.redis_client import RedisClient
from projections.generations import Generation, Generations
from projections.model import Document, Projection

WAIT_POLL_S = 0.01


class ReadModels:
    """The collections readers should query, by projection name."""

    def __init__(
        self,
        database: AsyncDatabase[Document],
        projections: list[Projection],
        *,
        cache_s: float = 1.0,
    ) -> None:
        self.database = database
        self.generations = Generations(database)
        self.projections = {projection.name: projection for projection in projections}
        self.cache_s = cache_s
        self._active: dict[str, tuple[float, Generation]] = {}

    async def active(self, name: str) -> Generation:
        cached = self._active.get(name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        state = await self.generations.get(name)
        generation = state.active if state is not None else Generation(name, 1)
        self._active[name] = (now, generation)
        return generation

    async def collection(self, name: str) -> AsyncCollection[Document]:
        """The collection serving projection `name` now."""
        return self.database[(await self.active(name)).collection]

    def readers_of(self, names: StreamNames, stream: str) -> list[Projection]:
        """The projections that read `stream`."""
        tag, category = names.parse(stream)
        return [
            projection
            for projection in self.projections.values()
            if category in projection.categories
            and (tag in projection.tags if projection.tags else not tag.startswith("app."))
        ]

    async def wait_for(
        self,
        redis: RedisClient,
        names: StreamNames,
        stream: str,
        position: Position,
        *,
        timeout_s: float,
        only: str | None = None,
    ) -> bool:
        """Wait until every projection reading `stream` (or just `only`) has applied
        `position`. False if the timeout passed first ("read your writes")."""
        tag, _ = names.parse(stream)
        readers = [self.projections[only]] if only else self.readers_of(names, stream)
        deadline = time.monotonic() + timeout_s
        pending = list(readers)
        while pending:
            still = []
            for projection in pending:
                group = (await self.active(projection.name)).group
                tracked = await redis.hget(names.tracking(tag, group), stream)
                if tracked is None or Position.parse(tracked) < position:
                    still.append(projection)
            pending = still
            if not pending:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(WAIT_POLL_S)
        return True
