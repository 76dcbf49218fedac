"""Aggregates at any version or time, and their history. Admin keys only."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime

from aggregates.errors import NotFoundError
from aggregates.services.base import AggregateView, Service
from aggregates.services.bundle import Services
from api.admin_models import (
    HistoryEvent,
)
from api.deps import Admin, Context
from api.reading import ADMIN_REFUSALS as REFUSALS
from api.reading import invalid, problem_responses

router = APIRouter(prefix="/admin", tags=["admin"])

# -- aggregates -------------------------------------------------------------------------


NO_AGGREGATE = problem_responses(404, s404="No aggregate with this id (at that time).")


def _owner(services: Services, aggregate_id: UUID) -> Service:  # type: ignore[type-arg]
    for service in services.all():
        if service.recorder.select_events(aggregate_id, limit=1):
            return service
    raise HTTPException(404, f"no aggregate {aggregate_id}")


@router.get(
    "/aggregates/{aggregate_id}",
    response_model=AggregateView,
    summary="An aggregate's state now, at a version, or at a time",
    responses={**REFUSALS, **NO_AGGREGATE},
)
def get_aggregate(
    aggregate_id: UUID,
    context: Context,
    admin: Admin,
    version: Annotated[int | None, Query(ge=1, le=2**62, description="At this version.")] = None,
    at: Annotated[AwareDatetime | None, Query(description="As it was at this time.")] = None,
) -> AggregateView:
    if version is not None and at is not None:
        raise invalid("at", "give `version` or `at`, not both")
    service = _owner(context.services, aggregate_id)
    try:
        return service.view(aggregate_id, version=version, at=at)
    except NotFoundError as error:
        raise HTTPException(404, str(error)) from None


@router.get(
    "/aggregates/{aggregate_id}/history",
    response_model=list[HistoryEvent],
    summary="Every event of an aggregate, oldest first",
    responses={**REFUSALS, **NO_AGGREGATE},
)
def get_aggregate_history(aggregate_id: UUID, context: Context, admin: Admin) -> list[HistoryEvent]:
    service = _owner(context.services, aggregate_id)
    try:
        history = service.history(aggregate_id)
    except NotFoundError as error:
        raise HTTPException(404, str(error)) from None
    common = {"originator_id", "originator_version", "timestamp"}
    return [
        HistoryEvent(
            type=type(event).event_type,
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            timestamp=event.timestamp,
            data=event.model_dump(mode="json", exclude=common),
        )
        for event in history
    ]
