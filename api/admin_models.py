"""Input and output shapes of the admin API (`api.routes.admin`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, field_validator, model_validator

from api.replay import EventOut
from handlers.dead_letter_ops import DeadLetterId
from handlers.monitoring import StreamStatus
from projections.rebuild import ProjectionStatus


class GroupOut(BaseModel):
    group: str
    consumers: int
    pending: int
    lag: int | None
    lag_is_lower_bound: bool
    last_delivered: str
    owner: str | None
    processed: int
    failed: int
    dead_lettered: int
    duplicates: int


class StreamOut(BaseModel):
    stream: str
    partition: str
    category: str
    length: int
    first: str | None
    last: str | None
    groups: list[GroupOut]

    @classmethod
    def of(cls, status: StreamStatus) -> StreamOut:
        return cls(
            stream=status.stream,
            partition=status.tag,
            category=status.category,
            length=status.length,
            first=str(status.first) if status.first else None,
            last=str(status.last) if status.last else None,
            groups=[GroupOut.model_validate(asdict(group)) for group in status.groups],
        )


class Correlation(BaseModel):
    correlation_id: UUID
    events: list[EventOut] = Field(description="Oldest first, across streams.")
    streams_scanned: int
    truncated: bool = Field(
        description="True when a stream's scan budget or the limit ran out: widen `scan`,"
        " narrow `start`/`end`, or raise `limit` to see the rest."
    )


class HistoryEvent(BaseModel):
    type: str
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    data: dict[str, Any] = Field(description="The event's own fields.")


class ProjectionOut(BaseModel):
    name: str
    started: bool = Field(description="False until a projector first ran it.")
    active: int = Field(description="The generation serving reads.")
    collection: str
    backlog: int = Field(description="Events the active generation has yet to apply.")
    building: int | None = Field(description="The generation a rebuild is filling, if any.")
    building_backlog: int | None
    retired: list[int] = Field(description="Old generations waiting for their grace period.")
    scratch: int | None = Field(
        None, description="A dry run's generation (never swapped in), if any."
    )
    scratch_backlog: int | None = None

    @classmethod
    def of(cls, status: ProjectionStatus) -> ProjectionOut:
        return cls(
            name=status.name,
            started=status.started,
            active=status.active.number,
            collection=status.active.collection,
            backlog=status.active_backlog,
            building=status.building.number if status.building else None,
            building_backlog=status.building_backlog,
            retired=[generation.number for generation in status.retired],
            scratch=status.scratch.number if status.scratch else None,
            scratch_backlog=status.scratch_backlog,
        )


class RebuildStarted(BaseModel):
    projection: str
    building: int
    collection: str
    group: str


class DeadLetterOut(BaseModel):
    id: str = Field(description="`<partition>/<position>`: what retry and discard take.")
    handler: str
    partition: str
    dead_at: datetime
    stream: str = Field(description="Where the original entry was.")
    position: str
    original_type: str | None
    event_id: str | None
    key: str | None
    correlation_id: str | None
    error_type: str
    error: str
    deliveries: int


class DeadLetterIds(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000, description="Dead letter ids.")

    @field_validator("ids")
    @classmethod
    def _parseable(cls, ids: list[str]) -> list[str]:
        for raw in ids:
            DeadLetterId.parse(raw)
        return ids

    def parsed(self) -> list[DeadLetterId]:
        return [DeadLetterId.parse(raw) for raw in self.ids]


class RetryRequest(BaseModel):
    ids: list[str] | None = Field(None, min_length=1, max_length=1000)
    all: bool = Field(False, description="Retry every dead letter of the handler.")

    @model_validator(mode="after")
    def _one_of(self) -> RetryRequest:
        if (self.ids is None) == (not self.all):
            raise ValueError("give `ids` or `all: true`, not both and not neither")
        for raw in self.ids or []:
            DeadLetterId.parse(raw)
        return self


class Retried(BaseModel):
    handler: str
    retried: int


class Discarded(BaseModel):
    handler: str
    discarded: int
