"""Ingest: producers outside the system append events of the catalog's ingestable types.

``POST /v1/events/{category}`` takes up to `MAX_ITEMS` events. Each is checked on its
own against its type's payload model; the valid ones are appended in one atomic batch
(one per partition on a Redis Cluster) and the invalid ones are reported by index,
with the path of every offending field. Nothing invalid is written.

Retrying is safe: appends are idempotent by event id, and an event sent without an id
gets one derived from its category, type and payload, so sending the same observation
twice stores it once (the second answer says ``duplicate: true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, get_origin
from uuid import UUID, uuid5

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticSerializationError

from api.consistency import format_position
from api.deps import Context, Ingest
from api.guard import body_limit
from api.problems import problem
from api.reading import FieldProblem, Problem, problem_responses
from events.catalog import INGESTABLE, CatalogPayload
from events.envelope import Event

router = APIRouter(tags=["ingest"])

MAX_ITEMS = 1000
MAX_BODY_BYTES = 16 * 2**20
"""A full batch of posts (1,000 of up to 20,000 characters) nearly fits; larger ones split."""
EVENT_ID_NAMESPACE = UUID("5d1c4bd2-8a0e-4a5e-9f51-3c7f0f1d2b6e")
"""Fixed forever: derived event ids must not change between releases."""
INT64 = range(-(2**63), 2**63)


class IngestItem(BaseModel):
    """One event to append. Its payload is checked against the type's model."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=128, description="e.g. price.tick")
    payload: dict[str, Any] = Field(description="The type's payload, as its schema says.")
    event_id: UUID | None = Field(
        default=None,
        description="Idempotency key. Default: derived from category, type and payload.",
    )
    occurred_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    correlation_id: UUID | None = Field(default=None, description="Default: the event id.")


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[IngestItem] = Field(min_length=1, max_length=MAX_ITEMS)


class AcceptedItem(BaseModel):
    index: int = Field(description="Position of the item in the request's `events`.")
    event_id: UUID
    type: str
    stream: str
    position: str
    after: str = Field(description="`<stream>@<position>`: pass as `after` to a read.")
    duplicate: bool = Field(description="Stored already (a retry): nothing was appended.")


class RejectedItem(BaseModel):
    index: int = Field(description="Position of the item in the request's `events`.")
    errors: list[FieldProblem] = Field(description="Fields relative to the item.")


class IngestResult(BaseModel):
    accepted: list[AcceptedItem]
    rejected: list[RejectedItem]


class IngestRefusal(Problem):
    """422: no item was valid (or the request itself was malformed: no `rejected`)."""

    rejected: list[RejectedItem] | None = None


@router.post(
    "/events/{category}",
    response_model=IngestResult,
    summary="Append events of the category's ingestable types",
    openapi_extra=body_limit(MAX_BODY_BYTES),
    responses={
        207: {
            "model": IngestResult,
            "description": "Some items were accepted and appended, others rejected (see"
            " `rejected`); nothing invalid was written.",
        },
        **problem_responses(
            400,
            401,
            403,
            404,
            413,
            429,
            503,
            s400="The body is not JSON.",
            s404="No such ingestable category; the detail lists them.",
        ),
        **problem_responses(
            422,
            model=IngestRefusal,
            s422="No item was valid (each is listed in `rejected`, and every offending"
            " field in `errors`), or the request is malformed. Nothing was written.",
        ),
    },
)
async def ingest(
    principal: Ingest,
    context: Context,
    response: Response,
    request: IngestRequest,
    category: Annotated[str, Path(max_length=64, description="e.g. ticks, posts, chain")],
) -> IngestResult | Response:
    types = INGESTABLE.get(category)
    if types is None:
        known = ", ".join(sorted(INGESTABLE))
        raise HTTPException(404, f"no ingestable category {category!r}; ingestable: {known}")
    events: list[tuple[int, Event]] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(request.events):
        checked = _checked(category, types, item)
        if isinstance(checked, Event):
            events.append((index, checked))
        else:
            rejected.append(RejectedItem(index=index, errors=checked))
    if not events:
        return _refusal(rejected)
    results = await context.store.append_batch(category, [event for _, event in events])
    accepted = [
        AcceptedItem(
            index=index,
            event_id=event.event_id,
            type=event.type,
            stream=result.stream,
            position=str(result.position),
            after=format_position(result.stream, result.position),
            duplicate=result.duplicate,
        )
        for (index, event), result in zip(events, results, strict=True)
    ]
    if rejected:
        response.status_code = 207
    return IngestResult(accepted=accepted, rejected=rejected)


def _checked(
    category: str, types: dict[str, type[CatalogPayload]], item: IngestItem
) -> Event | list[FieldProblem]:
    """The item as an event ready to append, or what is wrong with it."""
    model = types.get(item.type)
    if model is None:
        known = ", ".join(sorted(types))
        message = f"{item.type!r} is not an ingestable type of {category}; use one of: {known}"
        return [FieldProblem(field="type", message=message)]
    try:
        payload = model.model_validate(item.payload)
        canonical = payload.__pydantic_serializer__.to_json(payload)
    except ValidationError as error:
        return _problems(error, "payload")
    except PydanticSerializationError as error:
        return [FieldProblem(field="payload", message=f"cannot be stored: {error}")]
    problems = [
        FieldProblem(field=path, message="out of range: integers here must fit in 64 bits")
        for path in _oversized_integers(payload)
    ] + [
        FieldProblem(field=f"payload.{name}", message=why)
        for name, why in payload.refusals_at(datetime.now(UTC))
    ]
    if problems:
        return problems
    envelope = {
        "event_id": item.event_id or _derived_id(category, item.type, canonical),
        "occurred_at": item.occurred_at,
        "correlation_id": item.correlation_id,
    }
    try:
        return Event(
            payload=payload,
            key=payload.partition_key(),
            **{name: value for name, value in envelope.items() if value is not None},
        )
    except ValidationError as error:
        return _problems(error)


def _derived_id(category: str, type_name: str, canonical_payload: bytes) -> UUID:
    return uuid5(EVENT_ID_NAMESPACE, f"{category}\n{type_name}\n{canonical_payload.decode()}")


def _problems(error: ValidationError, *prefix: str) -> list[FieldProblem]:
    return [
        FieldProblem(
            field=".".join(str(part) for part in (*prefix, *detail["loc"])) or "payload",
            message=detail["msg"],
        )
        for detail in error.errors()
    ]


def _oversized_integers(payload: CatalogPayload) -> Iterator[str]:
    """Paths of integers MongoDB cannot hold, outside free-form maps.

    Free-form maps (``dict[str, Any]`` fields: a log's args, an alert's values) are kept
    as JSON text by the read models, so a uint256 there is fine; anywhere else it would
    make the event impossible to project.
    """
    fields = type(payload).model_fields
    for name, value in payload.model_dump().items():
        if get_origin(fields[name].annotation) is not dict:
            yield from _walk_integers(value, f"payload.{name}")


def _walk_integers(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_integers(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk_integers(item, f"{path}.{index}")


def _refusal(rejected: list[RejectedItem]) -> Response:
    errors = [
        {"field": f"events.{item.index}.{error.field}", "message": error.message}
        for item in rejected
        for error in item.errors
    ]
    first = errors[0]
    return problem(
        422,
        "Invalid request",
        f"no event was valid; {len(rejected)} rejected. First: {first['field']}: "
        f"{first['message']}",
        errors=errors,
        rejected=[item.model_dump(mode="json") for item in rejected],
    )
