"""What every application service shares: loading, saving, history and time travel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import takewhile
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic
from pydantic import TypeAdapter

from aggregates.errors import ConcurrentUpdateError, InvalidCommandError, NotFoundError
from aggregates.mapper import EnvelopeMapper
from aggregates.model import Aggregate, DomainEvent, Immutable

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

RETRIES = 3


class AggregateView(Immutable):
    """An aggregate as it was at one version: what `impressox aggregates show` prints."""

    id: UUID
    kind: str
    version: int
    created_on: datetime
    modified_on: datetime
    state: dict[str, Any]


class Service(Application[UUID], Generic[A]):
    """An application over one aggregate class, with snapshots every `snapshot_every`."""

    aggregate_class: ClassVar[type[Aggregate]]
    kind: ClassVar[str]
    """The aggregate's event type prefix (``alert_rule``)."""
    snapshot_every: ClassVar[int] = 100
    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(EnvelopeMapper),
        "IS_SNAPSHOTTING_ENABLED": "y",
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "aggregate_class"):
            cls.snapshotting_intervals = {cls.aggregate_class: cls.snapshot_every}

    def load(self, aggregate_id: UUID, *, version: int | None = None) -> A:
        """The aggregate (at `version`), or NotFoundError."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFoundError(f"no {self.kind} {aggregate_id}") from None
        if not isinstance(aggregate, self.aggregate_class):
            raise NotFoundError(f"{aggregate_id} is not a {self.kind}")
        return aggregate  # type: ignore[return-value]

    def commit(self, *aggregates: Aggregate) -> int | None:
        """Save, returning the notification id of the last event (None if none).

        Another command having changed the aggregate first raises ConcurrentUpdateError.
        """
        try:
            recordings = self.save(*aggregates)
        except IntegrityError as conflict:
            raise ConcurrentUpdateError(
                f"the {self.kind} changed meanwhile; reload it and try again ({conflict})"
            ) from None
        return recordings[-1].notification.id if recordings else None

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """Snapshot the aggregate, unless a snapshot at that version exists already.

        A second snapshot of one version holds the same state; it is not a conflict.
        """
        if self.snapshots is not None:
            wanted = version if version is not None else self.load(aggregate_id).version
            latest = list(self.snapshots.get(aggregate_id, desc=True, limit=1))
            if latest and latest[0].originator_version >= wanted:
                return
        super().take_snapshot(aggregate_id, version, projector_func)

    def change(self, aggregate_id: UUID, change: Callable[[A], object]) -> int | None:
        """Load the aggregate, apply a command to it, save: the last notification id."""
        aggregate: A = self.load(aggregate_id)
        change(aggregate)
        return self.commit(aggregate)

    def retrying(self, command: Callable[[], T], *, attempts: int = RETRIES) -> T:
        """Run a load-change-save command, again from a fresh load after a conflict."""
        for _ in range(attempts - 1):
            try:
                return command()
            except ConcurrentUpdateError:
                continue
        return command()

    # -- history and time travel --------------------------------------------------------

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        """Every event of the aggregate, oldest first."""
        events = [
            event for event in self.events.get(aggregate_id) if isinstance(event, DomainEvent)
        ]
        if not events:
            raise NotFoundError(f"no {self.kind} {aggregate_id}")
        return events

    def view(
        self, aggregate_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> AggregateView:
        """The aggregate as it was at `version`, or at time `at`, or now."""
        if version is not None and at is not None:
            raise ValueError("ask for a version or a time, not both")
        aggregate: Aggregate = (
            self._at_time(aggregate_id, at)
            if at is not None
            else self.load(aggregate_id, version=version)
        )
        if version is not None and aggregate.version < version:
            # The library loads "up to" a version: past the head it would show the head.
            raise InvalidCommandError(
                f"{self.kind} {aggregate_id} is at version {aggregate.version};"
                f" {version} is beyond its head",
                field="version",
            )
        return AggregateView(
            id=aggregate.id,
            kind=self.kind,
            version=aggregate.version,
            created_on=aggregate.created_on,
            modified_on=aggregate.modified_on,
            state=_plain(aggregate.public_state()),
        )

    def _at_time(self, aggregate_id: UUID, moment: datetime) -> Aggregate:
        """The aggregate from the events recorded up to `moment` (the history, read once)."""
        events = list(takewhile(lambda e: e.timestamp <= moment, self.history(aggregate_id)))
        aggregate = project_aggregate(None, events)
        if not isinstance(aggregate, Aggregate):
            raise NotFoundError(
                f"{self.kind} {aggregate_id} did not exist yet at {moment.isoformat()}"
            )
        return aggregate


def _plain(state: dict[str, Any]) -> dict[str, Any]:
    """Attributes as JSON-ready values (value objects become dictionaries)."""
    result: dict[str, Any] = TypeAdapter(dict[str, Any]).dump_python(state, mode="json")
    return result
