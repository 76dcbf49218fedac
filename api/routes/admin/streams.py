"""Reading streams by replay: each stream and its handlers' lag, events by position or
time (leniently and within bounds, see `api.replay`), and causal chains. Admin keys only."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime
from redis.exceptions import ResponseError

from api.admin_models import (
    Correlation,
    StreamOut,
)
from api.context import ApiContext
from api.deps import Admin, Context
from api.pagination import Page
from api.problems import BadParameterError
from api.reading import ADMIN_REFUSALS as REFUSALS
from api.reading import MAX_EVENTS, invalid, problem_responses
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
from api.stream_statuses import AGGREGATE_KINDS, streams_status
from events.names import check_category
from events.position import Position
from events.redis_client import RedisClient
from handlers.monitoring import list_streams, stream_status

router = APIRouter(prefix="/admin", tags=["admin"])

POSITION_PATTERN = r"^\d{1,20}(-\d{1,20})?$"

# -- streams ----------------------------------------------------------------------------


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
