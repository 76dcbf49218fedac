"""Generations of a read model, and which one serves: the state a rebuild moves through.

Each projection has numbered generations; generation N writes collection ``<name>_gN``
through consumer group ``proj-<name>-gN``. One generation is *active* (readers use it).
A rebuild starts generation N+1 as *building*: a fresh group that reads every stream
from the beginning into a fresh collection while the active one keeps serving. Once it
has caught up, one conditional update makes it active (the swap is atomic: readers see
the old collection or the new one, never a half-built one) and the old generation is
*retired*: its worker stops, and after a grace period its collection and group go.

A *scratch* generation is a rebuild that is never swapped in: it fills its own
collection from the log like a building one, so an operator can diff it against the
active one (`projections.diff`: what a rebuild would change) and then discard it, which
retires it like any other generation.

The state lives in MongoDB, in the ``projections`` collection, one document per
projection, so the API, the projector processes and the CLI all agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from events.errors import ImpressoxError
from projections.model import Document, Projection

STATE_COLLECTION = "projections"


class ProjectionStateError(ImpressoxError):
    """The generations' state changed under us (a concurrent rebuild or removal)."""


@dataclass(frozen=True)
class Generation:
    projection: str
    number: int

    @property
    def collection(self) -> str:
        return f"{self.projection}_g{self.number}"

    @property
    def group(self) -> str:
        return f"proj-{self.projection}-g{self.number}"


@dataclass(frozen=True)
class ProjectionState:
    name: str
    active: Generation
    building: Generation | None
    retired: list[tuple[Generation, datetime]]
    rebuild_started_at: datetime | None
    scratch: Generation | None = None
    scratch_started_at: datetime | None = None

    @property
    def highest(self) -> int:
        """The highest generation number in use: a new generation takes the next one."""
        numbers = [self.active.number, *(g.number for g, _ in self.retired)]
        numbers += [g.number for g in (self.building, self.scratch) if g is not None]
        return max(numbers)

    @classmethod
    def from_document(cls, document: Document) -> ProjectionState:
        name = document["_id"]
        building = document.get("building")
        scratch = document.get("scratch")
        return cls(
            name=name,
            active=Generation(name, int(document["active"])),
            building=Generation(name, int(building)) if building else None,
            retired=[
                (Generation(name, int(item["generation"])), item["at"])
                for item in document.get("retired", [])
            ],
            rebuild_started_at=document.get("rebuild_started_at"),
            scratch=Generation(name, int(scratch)) if scratch else None,
            scratch_started_at=document.get("scratch_started_at"),
        )


class Generations:
    """Reads and moves the generations of every projection."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.database = database
        self.states = database[STATE_COLLECTION]

    async def ensure(self, projection: Projection) -> ProjectionState:
        """The projection's state, creating generation 1 (and its indexes) on first use."""
        document = await self.states.find_one_and_update(
            {"_id": projection.name},
            {"$setOnInsert": {"active": 1, "building": None, "retired": []}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            raise ProjectionStateError(f"{projection.name}: its state document vanished")
        state = ProjectionState.from_document(document)
        await self.create_indexes(projection, state.active)
        return state

    async def create_indexes(self, projection: Projection, generation: Generation) -> None:
        if projection.indexes:
            await self.database[generation.collection].create_indexes(list(projection.indexes))

    async def get(self, name: str) -> ProjectionState | None:
        document = await self.states.find_one({"_id": name})
        return ProjectionState.from_document(document) if document else None

    async def all(self) -> list[ProjectionState]:
        return [ProjectionState.from_document(d) async for d in self.states.find().sort("_id")]

    async def start_rebuild(self, projection: Projection) -> Generation:
        """Start building the next generation (or return the one already building)."""
        state = await self.ensure(projection)
        if state.building is not None:
            return state.building
        return await self._start(projection, state, "building", "rebuild_started_at")

    async def start_scratch(self, projection: Projection) -> Generation:
        """Start filling a scratch generation (or return the one already there)."""
        state = await self.ensure(projection)
        if state.scratch is not None:
            return state.scratch
        return await self._start(projection, state, "scratch", "scratch_started_at")

    async def _start(
        self, projection: Projection, state: ProjectionState, role: str, started_field: str
    ) -> Generation:
        """Make the next generation the projection's `role` (building or scratch), unless
        another caller gave the role a generation first: then that one."""
        wanted = Generation(projection.name, state.highest + 1)
        await self.database.drop_collection(wanted.collection)  # leftovers of an old attempt
        await self.create_indexes(projection, wanted)
        document = await self.states.find_one_and_update(
            {  # nothing moved since `state` was read: the number is still free
                "_id": projection.name,
                "active": state.active.number,
                "building": state.building.number if state.building else None,
                "scratch": state.scratch.number if state.scratch else None,
            },
            {"$set": {role: wanted.number, started_field: datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER,
        )
        if document is None:  # another caller started one first: use theirs
            current = await self.get(projection.name)
            taken = None if current is None else getattr(current, role)
            if taken is None:
                raise ProjectionStateError(f"{projection.name}: {role} state changed; try again")
            assert isinstance(taken, Generation)
            return taken
        return wanted

    async def discard_scratch(self, name: str) -> Generation | None:
        """Retire the scratch generation (the runner stops it and, after the grace
        period, drops it); None when there was none."""
        state = await self.get(name)
        if state is None or state.scratch is None:
            return None
        retired = {"generation": state.scratch.number, "at": datetime.now(UTC)}
        result = await self.states.update_one(
            {"_id": name, "scratch": state.scratch.number},
            {"$set": {"scratch": None}, "$push": {"retired": retired}},
        )
        return state.scratch if result.modified_count == 1 else None

    async def swap(self, name: str, building: Generation) -> bool:
        """Make `building` active, atomically; False if it was not building any more."""
        state = await self.get(name)
        if state is None or state.building != building:
            return False
        retired = {"generation": state.active.number, "at": datetime.now(UTC)}
        result = await self.states.update_one(
            {"_id": name, "building": building.number, "active": state.active.number},
            {
                "$set": {"active": building.number, "building": None},
                "$push": {"retired": retired},
            },
        )
        return result.modified_count == 1

    async def forget_retired(self, name: str, generation: Generation) -> None:
        await self.states.update_one(
            {"_id": name}, {"$pull": {"retired": {"generation": generation.number}}}
        )

    @staticmethod
    def due(state: ProjectionState, grace: timedelta) -> list[Generation]:
        """Retired generations whose grace period is over: readers have moved on."""
        now = datetime.now(UTC)
        return [generation for generation, at in state.retired if now - _aware(at) >= grace]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
