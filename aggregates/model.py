"""The building blocks of our aggregates: the library's aggregate, pydantic events.

Aggregates are declared with the `eventsourcing` library's aggregate base and `@event`
decorators; the events it generates are pydantic models, and each one is registered as
one of our payload types (``alert_rule.paused``). So an aggregate's events are stored
in the common envelope with a typed payload, and a handler reading the application's
log decodes them exactly like any other event.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Self, cast
from uuid import UUID, uuid4

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
)
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ConfigDict, Field

from events.envelope import Payload
from events.registry import REGISTRY, PayloadRegistry


def utc_now() -> datetime:
    return datetime.now(UTC)


class Immutable(BaseModel):
    """A value object: frozen, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DomainEvent(Payload):
    """An aggregate's event: which aggregate, at which version, when."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime = Field(default_factory=utc_now)


class Aggregate(BaseAggregate[UUID]):
    """Base of our aggregates; subclasses declare their events with ``@event``."""

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        return uuid4()

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        pass

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str

    def public_state(self) -> dict[str, Any]:
        """The attributes a person may see (time travel, the CLI); override to hide."""
        return {name: value for name, value in vars(self).items() if not name.startswith("_")}


class SnapshotState(Immutable):
    """What a snapshot keeps of an aggregate; subclasses list its attributes, typed, so
    that nested value objects come back as objects, not dictionaries."""

    created_on: datetime
    modified_on: datetime


class AggregateSnapshot(DomainEvent, CanSnapshotAggregate[UUID]):
    """A snapshot of an aggregate at a version; subclasses narrow `state`'s type."""

    topic: str
    state: SnapshotState

    @classmethod
    def take(cls, aggregate: Any) -> Self:
        state_type = cast(type[SnapshotState], cls.model_fields["state"].annotation)
        attributes = {
            name: value for name, value in vars(aggregate).items() if not name.startswith("_")
        }
        state = state_type(
            created_on=aggregate.created_on, modified_on=aggregate.modified_on, **attributes
        )
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: None) -> BaseAggregate[UUID]:
        aggregate_class = cast(type[BaseAggregate[UUID]], resolve_topic(self.topic))
        attributes = {
            name: getattr(self.state, name)
            for name in type(self.state).model_fields
            if name not in ("created_on", "modified_on")
        }
        attributes.update(
            _id=self.originator_id,
            _version=self.originator_version,
            _created_on=self.state.created_on,
            _modified_on=self.state.modified_on,
            _pending_events=[],
        )
        aggregate = object.__new__(aggregate_class)
        object.__setattr__(aggregate, "__dict__", attributes)
        return aggregate


def register_aggregate(
    aggregate_class: type[Aggregate], name: str, *, registry: PayloadRegistry = REGISTRY
) -> None:
    """Register the events of an aggregate as ``<name>.<event in snake case>``.

    Call it once, after the class: the ``@event`` decorators have generated the event
    classes by then (``AlertRule.Paused`` becomes ``alert_rule.paused``).
    """
    for attribute, value in vars(aggregate_class).items():
        if isinstance(value, type) and issubclass(value, DomainEvent) and attribute[0].isupper():
            version = getattr(value, "class_version", 1)
            registry.register(value, f"{name}.{_snake(attribute)}", version)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
