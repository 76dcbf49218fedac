"""Running projections: the workers of each active (and building) generation.

`impressox projections run` (started by `impressox up`) runs one `ProjectionRunner` for
all read models. Every `poll_s` it reads the generations' state and makes the running
workers match it: a rebuild someone started is picked up, a building generation that
has caught up is swapped in, a scratch one is filled the same way but never swapped,
a retired one is stopped and, after `retire_grace`, its
collection dropped and its consumer group removed. Several runner processes share the
partitions of each generation through the runtime's leases.

Through an outage of MongoDB or Redis the runner waits: at start until it can read the
state, then round after round, saying once that the server is away and once that it is
back; the workers wait in place meanwhile (`handlers.partition`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta

import structlog
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError
from redis.exceptions import RedisError, ResponseError

from events.outages import Outage, outage, redis_unavailable
from events.stopping import sleep_unless_stopped
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.declaration import HandlerSpec
from handlers.monitoring import group_backlog
from handlers.worker import Worker
from projections.generations import Generation, Generations, ProjectionState
from projections.model import Document, Projection
from projections.projector import Projector

log = structlog.get_logger(__name__)


def generation_spec(
    projection: Projection, generation: Generation, database: AsyncDatabase[Document]
) -> HandlerSpec:
    """The runtime handler that feeds one generation's collection."""
    collection = database[generation.collection]
    return HandlerSpec(
        name=generation.group,
        categories=projection.categories,
        types=projection.types,
        factory=lambda _context: Projector(projection, collection),
        tags=projection.tags,
    )


def source_streams(projection: Projection, store: EventStore) -> list[str]:
    """Every stream the projection reads."""
    names = store.names
    tags = list(projection.tags) if projection.tags else names.partition_tags()
    return [names.stream(tag, category) for tag in tags for category in projection.categories]


async def backlog(projection: Projection, generation: Generation, store: EventStore) -> int:
    """What the generation has left to do: zero when it has caught up."""
    return await group_backlog(store.redis, source_streams(projection, store), generation.group)


async def remove_group(projection: Projection, generation: Generation, store: EventStore) -> None:
    """Delete a retired generation's consumer groups and its tracking and counters."""
    names = store.names
    for stream in source_streams(projection, store):
        with contextlib.suppress(ResponseError):
            await store.redis.xgroup_destroy(stream, generation.group)
    tags = list(projection.tags) if projection.tags else names.partition_tags()
    for tag in tags:
        await store.redis.delete(
            names.tracking(tag, generation.group),
            names.stats(tag, generation.group),
            names.lease(tag, generation.group),
        )


def _outage_of(error: Exception) -> Outage | None:
    """The outage `error` shows, if it is one (not a refusal or a bug)."""
    if isinstance(error, ConnectionFailure):
        return outage("MongoDB")
    if redis_unavailable(error):
        return outage("Redis")
    return None


@dataclass
class _Running:
    worker: Worker
    stop: asyncio.Event
    task: asyncio.Task[None]


class ProjectionRunner:
    """Keeps the right generations of `projections` running in this process."""

    def __init__(
        self,
        *,
        projections: list[Projection],
        store: EventStore,
        database: AsyncDatabase[Document],
        config: RuntimeConfig,
        poll_s: float = 1.0,
        retire_grace: timedelta = timedelta(seconds=30),
    ) -> None:
        self.projections = {projection.name: projection for projection in projections}
        self.store = store
        self.database = database
        self.generations = Generations(database)
        self.config = config
        self.poll_s = poll_s
        self.retire_grace = retire_grace
        self._running: dict[Generation, _Running] = {}

    async def run(self, stop: asyncio.Event) -> None:
        if not await self._ensure_states(stop):
            return
        log.info("projections started", projections=sorted(self.projections))
        try:
            while not stop.is_set():
                try:
                    await self.reconcile()
                except (PyMongoError, RedisError) as error:
                    away = _outage_of(error)
                    if away is None:
                        log.warning("cannot read projection state; retrying", error=str(error))
                    else:
                        away.failed(error)
                else:
                    # MongoDB only: a round reads Redis only while a rebuild runs, so
                    # its success says nothing about Redis (the workers tell that).
                    outage("MongoDB").succeeded()
                await sleep_unless_stopped(stop, self.poll_s)
        finally:
            await asyncio.shield(self._stop_all())

    async def _ensure_states(self, stop: asyncio.Event) -> bool:
        """Create missing state documents, waiting for MongoDB; False if stopped first."""
        while not stop.is_set():
            try:
                for projection in self.projections.values():
                    await self.generations.ensure(projection)
            except PyMongoError as error:
                away = _outage_of(error)
                if away is None:
                    raise
                if await away.wait(error, stop):
                    return False
            else:
                outage("MongoDB").succeeded()
                return True
        return False

    async def reconcile(self) -> None:
        """Make the running workers match the state; swap and clean up what is due."""
        wanted: set[Generation] = set()
        for state in await self.generations.all():
            projection = self.projections.get(state.name)
            if projection is None:
                continue  # another deployment's read model, or one no longer declared
            wanted |= await self._live_generations(projection, state)
            for generation in self.generations.due(state, self.retire_grace):
                if generation not in self._running:
                    await self._drop(projection, generation)
        for generation in set(self._running) - wanted:
            await self._stop(generation)
        for generation in wanted - set(self._running):
            self._start(self.projections[generation.projection], generation)
        for generation, running in list(self._running.items()):
            if running.task.done():  # crashed: start again on the next round
                del self._running[generation]

    async def _live_generations(
        self, projection: Projection, state: ProjectionState
    ) -> set[Generation]:
        """The generations of `state` that should run; swaps a rebuild that caught up."""
        live = {state.active}
        if state.building is not None:
            live.add(state.building)
            await self._maybe_swap(projection, state, state.building)
        if state.scratch is not None:
            live.add(state.scratch)  # filled like a rebuild, never swapped in
        return live

    async def _maybe_swap(
        self, projection: Projection, state: ProjectionState, building: Generation
    ) -> None:
        if building not in self._running:
            return  # only a process that runs it knows its workers made progress
        if await backlog(projection, building, self.store) == 0 and await self.generations.swap(
            projection.name, building
        ):
            log.info(
                "rebuild swapped in",
                projection=projection.name,
                generation=building.number,
                retired=state.active.number,
            )

    def _start(self, projection: Projection, generation: Generation) -> None:
        spec = generation_spec(projection, generation, self.database)
        worker = Worker(spec, self.store, self.config)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop), name=generation.group)
        self._running[generation] = _Running(worker, stop, task)
        log.info("projection generation started", group=generation.group)

    async def _stop(self, generation: Generation) -> None:
        running = self._running.pop(generation)
        running.stop.set()
        await asyncio.gather(running.task, return_exceptions=True)
        log.info("projection generation stopped", group=generation.group)

    async def _stop_all(self) -> None:
        for generation in list(self._running):
            self._running[generation].stop.set()
        for generation in list(self._running):
            await self._stop(generation)

    async def _drop(self, projection: Projection, generation: Generation) -> None:
        await self.database.drop_collection(generation.collection)
        await remove_group(projection, generation, self.store)
        await self.generations.forget_retired(projection.name, generation)
        log.info("retired generation removed", group=generation.group)
