"""The common entry envelope: what every event looks like, whoever wrote it.

An `Event` is the envelope (identity, type, key, version, time, causality) around a
`Payload`, a pydantic model registered by type name and schema version. A
`RecordedEvent` is an event together with where it was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SerializeAsAny, model_validator

from events.position import Position


class Payload(BaseModel):
    """Base of every event payload. Subclass it and register it with `@event_type`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 0


class UnknownPayload(Payload):
    """The payload of a type this process has no model for, kept as it was stored.

    Only lenient readers (the CLI, the debug API) see these; handlers never do.
    """

    model_config = ConfigDict(frozen=True, extra="allow")


class Event(BaseModel):
    """One event, in the envelope every stream shares.

    `event_id` is the idempotency key: appending the same id twice stores it once.
    `correlation_id` ties together everything one user message or one tick caused
    (a root event correlates to itself); `causation_id` names the direct parent.
    `type` and `schema_version` are taken from the payload's registration when omitted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(default_factory=uuid4)
    type: str = ""
    schema_version: int = Field(default=0, ge=0)
    key: str = Field(min_length=1, max_length=256)
    version: int | None = Field(default=None, ge=1)
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    causation_id: UUID | None = None
    correlation_id: UUID | None = None
    payload: SerializeAsAny[Payload]

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        payload = data.get("payload")
        if isinstance(payload, Payload) and not isinstance(payload, UnknownPayload):
            data.setdefault("type", payload.event_type)
            data.setdefault("schema_version", payload.schema_version)
        if data.get("event_id") is None:
            data["event_id"] = uuid4()
        if data.get("correlation_id") is None:
            data["correlation_id"] = data["event_id"]
        return data

    @model_validator(mode="after")
    def _check_payload_matches_type(self) -> Self:
        payload_class = type(self.payload)
        if payload_class is UnknownPayload:
            return self
        if not payload_class.event_type:
            raise ValueError(f"payload class {payload_class.__name__} is not registered")
        if self.type != payload_class.event_type:
            raise ValueError(
                f"type {self.type!r} does not match the payload's type {payload_class.event_type!r}"
            )
        if self.schema_version != payload_class.schema_version:
            raise ValueError(
                f"schema_version {self.schema_version} does not match the payload's"
                f" {payload_class.schema_version}"
            )
        if self.occurred_at.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))
        return self

    def caused(self, payload: Payload, *, key: str | None = None, **fields: Any) -> Event:
        """A new event caused by this one: same correlation, this one as its cause.

        Handlers call this once per output, so the common case skips re-validation:
        the payload is an already validated, registered model, the ids are generated
        here and the key is checked by hand. Anything else goes through validation.
        """
        key = self.key if key is None else key
        model = type(payload)
        if fields or not model.event_type or model is UnknownPayload or not 0 < len(key) <= 256:
            return Event(
                payload=payload,
                key=key,
                causation_id=self.event_id,
                correlation_id=self.correlation_id,
                **fields,
            )
        return Event.model_construct(
            event_id=uuid4(),
            type=model.event_type,
            schema_version=model.schema_version,
            key=key,
            version=None,
            occurred_at=datetime.now(UTC),
            causation_id=self.event_id,
            correlation_id=self.correlation_id,
            payload=payload,
        )


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back from a stream, with its stream and position."""

    stream: str
    position: Position
    event: Event
