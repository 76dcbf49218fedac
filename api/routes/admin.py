"""Operating and debugging by replay: streams, events, causal chains, aggregates at any
version, read model rebuilds and dead letters. Every endpoint needs an ``admin`` key.

Events are read leniently and within bounds (see `api.replay`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime
from redis.exceptions import ResponseError

from aggregates.errors import NotFoundError
from aggregates.services.base import AggregateView, Service
from aggregates.services.bundle import Services
from api.admin_models import (
    Correlation,
    DeadLetterIds,
    DeadLetterOut,
    Discarded,
    HistoryEvent,
    ProjectionOut,
    RebuildStarted,
    Retried,
    RetryRequest,
    StreamOut,
)
from api.auth import Admin
from api.context import ApiContext, Context
from api.pagination import Page
from api.problems import BadParameterError
from api.reading import invalid, problem_responses
from api.replay import (
    MAX_HALF,
    EventOut,
    InvalidCursorError,
    PageCursor,
    correlated,
    matcher,
    merged_page,
    time_bound,
)
from events.names import StreamNames, check_category
from events.position import Position
from events.redis_client import RedisClient
from handlers.dead_letter_ops import (
    HANDLER_PATTERN,
    DeadLetterId,
    DeadLetters,
    UnknownDeadLetterError,
)
from handlers.monitoring import StreamStatus, list_streams, stream_status
from projections.generations import Generations
from projections.rebuild import projection_statuses

router = APIRouter(prefix="/admin", tags=["admin"])

REFUSALS = problem_responses(401, 403, 422, 429)
AGGREGATE_KINDS = ("agg.", "snap.")
"""Categories of one aggregate's own stream: its events are in its application's log too."""
MAX_EVENTS = 1000
POSITION_PATTERN = r"^\d{1,20}(-\d{1,20})?$"

# -- streams ----------------------------------------------------------------------------


async def streams_status(
    redis: RedisClient, names: StreamNames, category: str | None = None
) -> list[StreamStatus]:
    """Every stream but single aggregates' (their events are in the logs), with groups."""
    statuses = []
    for stream in await list_streams(redis, names):
        found = names.parse(stream)[1]
        if found.startswith(AGGREGATE_KINDS) or (category is not None and found != category):
            continue
        try:
            statuses.append(await stream_status(redis, names, stream))
        except ResponseError:  # deleted between SCAN and XINFO
            continue
    return statuses


@router.get(
    "/streams",
    response_model=list[StreamOut],
    summary="Streams: length, first and last positions, each handler's lag and counters",
    responses=REFUSALS,
)
async def get_streams(
    context: Context,
    admin: Admin,
    category: Annotated[
        str | None, Query(pattern=r"^[a-z][a-z0-9_.-]{0,63}$", description="Only this one.")
    ] = None,
) -> list[StreamOut]:
    statuses = await streams_status(context.redis, context.store.names, category)
    return [StreamOut.of(status) for status in statuses]


StreamPath = Annotated[
    str, Path(max_length=300, description="A stream name, e.g. `ix:{p0}:ticks`.")
]


@router.get(
    "/streams/{stream}",
    response_model=StreamOut,
    summary="One stream and its handlers",
    responses={**REFUSALS, **problem_responses(404, s404="No such stream.")},
)
async def get_stream(stream: StreamPath, context: Context, admin: Admin) -> StreamOut:
    _check_stream(context, stream)
    try:
        return StreamOut.of(await stream_status(context.redis, context.store.names, stream))
    except ResponseError:
        raise HTTPException(404, f"no stream {stream}") from None


def _check_stream(context: ApiContext, stream: str) -> None:
    try:
        context.store.names.parse(stream)
    except ValueError as error:
        raise invalid("stream", str(error)) from None


# -- events -----------------------------------------------------------------------------


def _position(value: str | None, field: str) -> Position | None:
    if value is None:
        return None
    position = Position.parse(value)
    if max(position.ms, position.seq) > MAX_HALF:
        raise invalid(field, f"{value!r} is beyond the largest stream position")
    return position


@router.get(
    "/events",
    response_model=Page[EventOut],
    summary="Events of one stream or of a whole category, by position or time",
    description="Give `stream` or `category`; bound by positions (`from`, `to`) or by times"
    " (`start`, `end`), all inclusive; filter by `type`, `key` and `correlation_id`."
    " Types this process does not know are shown as stored."
    " A category's partitions are merged in position order.",
    responses={
        **REFUSALS,
        **problem_responses(400, 404, s404="No such stream."),
    },
)
async def get_events(
    context: Context,
    admin: Admin,
    *,
    stream: Annotated[str | None, Query(max_length=300, description="One stream.")] = None,
    category: Annotated[
        str | None, Query(max_length=64, description="Every partition of a category.")
    ] = None,
    from_: Annotated[
        str | None, Query(alias="from", pattern=POSITION_PATTERN, description="Position.")
    ] = None,
    to: Annotated[str | None, Query(pattern=POSITION_PATTERN, description="Position.")] = None,
    start: Annotated[AwareDatetime | None, Query(description="Time (ISO 8601).")] = None,
    end: Annotated[AwareDatetime | None, Query(description="Time (ISO 8601).")] = None,
    type_: Annotated[
        list[str] | None, Query(alias="type", max_length=50, description="Only these types.")
    ] = None,
    correlation_id: Annotated[UUID | None, Query(description="Only this causal chain.")] = None,
    key: Annotated[
        str | None, Query(max_length=512, description="Only events with this key (exact).")
    ] = None,
    direction: Annotated[Literal["asc", "desc"], Query(description="Oldest first or not.")] = "asc",
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[EventOut]:
    streams = _targets(context, stream, category)
    if stream is not None:
        await _require_stream(context.redis, stream)
    if (from_ or to) and (start or end):
        raise invalid("start", "bound by positions (from, to) or by times (start, end), not both")
    low = _position(from_, "from") or time_bound(start, upper=False)
    high = _position(to, "to") or time_bound(end, upper=True)
    if low is not None and high is not None and low > high:
        raise invalid("to" if to else "end", "must not be before the lower bound")
    try:
        after = PageCursor.decode(cursor) if cursor else None
    except InvalidCursorError as error:
        raise BadParameterError("cursor", str(error)) from None
    items, next_page = await merged_page(
        context.redis,
        context.store.registry,
        streams,
        low=low,
        high=high,
        reverse=direction == "desc",
        match=matcher(type_, correlation_id, key),
        limit=limit,
        after=after,
    )
    return Page[EventOut](items=items, next_cursor=next_page.encode() if next_page else None)


def _targets(context: ApiContext, stream: str | None, category: str | None) -> list[str]:
    if (stream is None) == (category is None):
        raise invalid("stream", "give `stream` or `category` (one of them)")
    if category is not None:
        try:
            return context.store.names.category_streams(check_category(category))
        except ValueError as error:
            raise invalid("category", str(error)) from None
    assert stream is not None
    _check_stream(context, stream)
    return [stream]


async def _require_stream(redis: RedisClient, stream: str) -> None:
    if await redis.type(stream) != b"stream":
        raise HTTPException(404, f"no stream {stream}")


# -- causal chains ----------------------------------------------------------------------

DEFAULT_SCAN = 10_000
MAX_SCAN = 100_000


@router.get(
    "/correlations/{correlation_id}",
    response_model=Correlation,
    summary="Everything one message or tick caused, across categories and aggregate logs",
    description="A bounded scan: every stream (but single aggregates', whose events are in"
    " their application's log) is read newest first, at most `scan` entries each, within"
    " `start`/`end` when given; at most `limit` events are returned, oldest first.",
    responses=REFUSALS,
)
async def get_correlation(
    correlation_id: UUID,
    context: Context,
    admin: Admin,
    *,
    start: Annotated[AwareDatetime | None, Query(description="From this time on.")] = None,
    end: Annotated[AwareDatetime | None, Query(description="Up to this time.")] = None,
    scan: Annotated[
        int, Query(ge=1, le=MAX_SCAN, description="Entries examined per stream, at most.")
    ] = DEFAULT_SCAN,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 500,
) -> Correlation:
    low, high = time_bound(start, upper=False), time_bound(end, upper=True)
    if low is not None and high is not None and low > high:
        raise invalid("end", "must not be before start")
    names = context.store.names
    streams = [
        stream
        for stream in await list_streams(context.redis, names)
        if not names.parse(stream)[1].startswith(AGGREGATE_KINDS)
    ]
    events, truncated = await correlated(
        context.redis,
        context.store.registry,
        streams,
        correlation_id,
        low=low,
        high=high,
        budget=scan,
        limit=limit,
    )
    return Correlation(
        correlation_id=correlation_id,
        events=events,
        streams_scanned=len(streams),
        truncated=truncated,
    )


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


# -- projections ------------------------------------------------------------------------


@router.get(
    "/projections",
    response_model=list[ProjectionOut],
    summary="Read models: generations, rebuilds, backlog",
    responses=REFUSALS,
)
async def get_projections(context: Context, admin: Admin) -> list[ProjectionOut]:
    statuses = await projection_statuses(
        list(context.read_models.projections.values()),
        context.store,
        Generations(context.database),
    )
    return [ProjectionOut.of(status) for status in statuses]


@router.post(
    "/projections/{name}/rebuild",
    response_model=RebuildStarted,
    status_code=202,
    summary="Rebuild a read model from the log; the projector swaps it in when caught up",
    description="Starts the next generation (or returns the one already building). Reads"
    " go on from the active generation until the swap.",
    responses={**REFUSALS, **problem_responses(404, s404="No such read model.")},
)
async def rebuild_projection(
    name: Annotated[str, Path(max_length=64)], context: Context, admin: Admin
) -> RebuildStarted:
    projection = context.read_models.projections.get(name)
    if projection is None:
        raise HTTPException(404, f"no read model named {name!r}")
    generation = await Generations(context.database).start_rebuild(projection)
    return RebuildStarted(
        projection=name,
        building=generation.number,
        collection=generation.collection,
        group=generation.group,
    )


# -- dead letters -----------------------------------------------------------------------


HandlerPath = Annotated[str, Path(pattern=HANDLER_PATTERN, description="The handler's name.")]
UNKNOWN_LETTER = problem_responses(404, s404="A dead letter is not there (retried, discarded).")


@router.get(
    "/dead-letters",
    response_model=Page[DeadLetterOut],
    summary="Dead letters of every handler (or one), by handler, partition and age",
    responses={**REFUSALS, **problem_responses(400)},
)
async def get_dead_letters(
    context: Context,
    admin: Admin,
    handler: Annotated[str | None, Query(pattern=HANDLER_PATTERN)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
) -> Page[DeadLetterOut]:
    try:
        page = await DeadLetters(context.store).page(handler, cursor=cursor, limit=limit)
    except ValueError as error:  # the only one: a cursor this API did not give out
        raise BadParameterError("cursor", str(error)) from None
    items = [DeadLetterOut.model_validate(letter.describe()) for letter in page.items]
    return Page[DeadLetterOut](items=items, next_cursor=page.next_cursor)


@router.post(
    "/dead-letters/{handler}/retry",
    response_model=Retried,
    summary="Redeliver dead letters to their handler alone (after fixing the cause)",
    responses={**REFUSALS, **UNKNOWN_LETTER},
)
async def retry_dead_letters(
    handler: HandlerPath, request: RetryRequest, context: Context, admin: Admin
) -> Retried:
    ids = None if request.all else [DeadLetterId.parse(raw) for raw in request.ids or []]
    retried = await _refusing_unknown(DeadLetters(context.store).retry(handler, ids))
    return Retried(handler=handler, retried=retried)


@router.post(
    "/dead-letters/{handler}/discard",
    response_model=Discarded,
    summary="Delete dead letters for good (counted and logged)",
    responses={**REFUSALS, **UNKNOWN_LETTER},
)
async def discard_dead_letters(
    handler: HandlerPath, request: DeadLetterIds, context: Context, admin: Admin
) -> Discarded:
    discarded = await _refusing_unknown(
        DeadLetters(context.store).discard(handler, request.parsed())
    )
    return Discarded(handler=handler, discarded=discarded)


async def _refusing_unknown(step: Awaitable[int]) -> int:
    try:
        return await step
    except UnknownDeadLetterError as error:
        raise HTTPException(404, str(error)) from None
