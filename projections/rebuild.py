"""Rebuilding a read model from the log, and watching how far each generation has got.

`rebuild` is what `impressox projections rebuild NAME` runs:

1. Start the next generation (`Generations.start_rebuild`), or join the one already
   building: its collection starts empty, its consumer group at the start of every stream.
2. Run that generation's worker in this process. It shares the partitions with any
   projector process running the same generation, through the runtime's leases, so a
   rebuild goes faster with the projector up, and works without it.
3. Watch the backlog (entries not yet applied) fall, reporting progress.
4. When it reaches zero, swap the generation in. The swap is conditional, so when the
   projector swaps first, that is the same outcome: the new generation serves.
5. Stop this process's worker; the projector keeps the new generation up to date and
   drops the old one after its grace period.

Interrupting the command between 2 and 4 leaves the rebuild in place: a running projector
finishes and swaps it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from events.position import Position
from events.redis_client import text
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.monitoring import group_backlog
from handlers.worker import Worker
from projections.generations import (
    Generation,
    Generations,
    ProjectionState,
    ProjectionStateError,
)
from projections.model import Document, Projection
from projections.runner import backlog, generation_spec, source_streams

Progress = Callable[[int, int], None]
"""Called with (applied, total) as a rebuild advances; total grows if events keep coming."""


@dataclass(frozen=True)
class ProjectionStatus:
    """A read model's generations and what each has left to apply."""

    name: str
    active: Generation
    building: Generation | None
    retired: list[Generation]
    active_backlog: int
    building_backlog: int | None
    started: bool
    """False until a projector (or a rebuild) first ran it: nothing is stored yet."""
    scratch: Generation | None = None
    scratch_backlog: int | None = None


@dataclass(frozen=True)
class PartitionStatus:
    """One generation on one source stream: how far it got, what is left, who works on it."""

    generation: Generation
    stream: str
    tracked: Position | None
    backlog: int
    owner: str | None


async def projection_status(
    projection: Projection, state: ProjectionState | None, store: EventStore
) -> ProjectionStatus:
    """The status of `projection`, given its state (None when it never ran)."""
    active = state.active if state is not None else Generation(projection.name, 1)
    building = state.building if state is not None else None
    return ProjectionStatus(
        name=projection.name,
        active=active,
        building=building,
        retired=[generation for generation, _ in state.retired] if state is not None else [],
        active_backlog=await backlog(projection, active, store),
        building_backlog=await backlog(projection, building, store) if building else None,
        started=state is not None,
        scratch=state.scratch if state is not None else None,
        scratch_backlog=(
            await backlog(projection, state.scratch, store)
            if state is not None and state.scratch
            else None
        ),
    )


async def projection_statuses(
    projections: list[Projection], store: EventStore, generations: Generations
) -> list[ProjectionStatus]:
    """The status of every projection of `projections`, by name."""
    states = {state.name: state for state in await generations.all()}
    return [
        await projection_status(projection, states.get(projection.name), store)
        for projection in sorted(projections, key=lambda p: p.name)
    ]


async def partition_statuses(
    projection: Projection, generation: Generation, store: EventStore
) -> list[PartitionStatus]:
    """Per source stream: the generation's tracked position, backlog and lease owner."""
    names, redis = store.names, store.redis
    statuses = []
    for stream in source_streams(projection, store):
        tag = names.tag_of(stream)
        tracked = await redis.hget(names.tracking(tag, generation.group), stream)
        owner = await redis.get(names.lease(tag, generation.group))
        statuses.append(
            PartitionStatus(
                generation=generation,
                stream=stream,
                tracked=Position.parse(tracked) if tracked else None,
                backlog=await group_backlog(redis, [stream], generation.group),
                owner=text(owner) if owner else None,
            )
        )
    return statuses


@dataclass(frozen=True)
class RebuildOutcome:
    generation: Generation
    swapped_here: bool
    """True if this process made the swap; False if a projector process made it first."""


async def rebuild(
    projection: Projection,
    store: EventStore,
    database: AsyncDatabase[Document],
    config: RuntimeConfig,
    *,
    progress: Progress | None = None,
    poll_s: float = 0.5,
) -> RebuildOutcome:
    """Rebuild `projection` into a new generation and swap it in (see the module doc)."""
    generations = Generations(database)
    generation = await generations.start_rebuild(projection)
    total = remaining = await backlog(projection, generation, store)
    worker = Worker(generation_spec(projection, generation, database), store, config)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name=f"rebuild:{generation.group}")
    try:
        while True:
            total = max(total, remaining)
            if progress is not None:
                progress(total - remaining, total)
            if remaining == 0:
                if await generations.swap(projection.name, generation):
                    return RebuildOutcome(generation, swapped_here=True)
                await _check_swapped_elsewhere(generations, generation)
                return RebuildOutcome(generation, swapped_here=False)
            await asyncio.wait({task}, timeout=poll_s)
            if task.done():
                task.result()  # the worker crashed: raise its error
                raise ProjectionStateError(f"{generation.group}: the rebuild worker stopped")
            remaining = await backlog(projection, generation, store)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def _check_swapped_elsewhere(generations: Generations, generation: Generation) -> None:
    """Another process swapped `generation` in, or the rebuild was replaced: an error."""
    state = await generations.get(generation.projection)
    if state is not None and state.active == generation:
        return
    raise ProjectionStateError(
        f"{generation.group}: the rebuild was replaced or abandoned meanwhile"
        f" (now active: {state.active.number if state else 'none'})"
    )
