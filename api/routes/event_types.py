"""Every event type this API knows: the explorer's type filter, and what each type holds.

The list is the payload registry of this process (the shared catalog, the aggregates'
events and the read models' modules), so a type only another process registers (a
module in IMPRESSOX_MODULES here too, normally) is missing from it; the explorer still
reads such events, as stored.
"""

from __future__ import annotations

import inspect

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Admin, Context
from api.reading import problem_responses
from events.envelope import Payload

router = APIRouter(prefix="/admin", tags=["admin"])


class EventTypeOut(BaseModel):
    type: str = Field(description="e.g. `price.tick`")
    schema_version: int
    category: str | None = Field(
        description="The category its events are appended to; null for an aggregate's"
        " events, which live in their application's log."
    )
    description: str = Field(description="The first paragraph of the payload's docstring.")
    fields: list[str] = Field(description="The payload's fields, in declaration order.")


def describe(name: str, model: type[Payload]) -> EventTypeOut:
    category = getattr(model, "category", None)
    doc = inspect.getdoc(model) or ""
    return EventTypeOut(
        type=name,
        schema_version=model.schema_version,
        category=category if isinstance(category, str) and category else None,
        description=doc.split("\n\n", 1)[0].replace("\n", " ").strip(),
        fields=list(model.model_fields),
    )


@router.get(
    "/event-types",
    response_model=list[EventTypeOut],
    summary="Every registered event type, by name",
    responses=problem_responses(401, 403, 429),
)
async def list_event_types(context: Context, admin: Admin) -> list[EventTypeOut]:
    registry = context.store.registry
    return [
        describe(name, model)
        for name in registry.names()
        if (model := registry.lookup(name)) is not None
    ]
