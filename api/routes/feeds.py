"""Feeds, newest first: alerts that fired, notifications delivered, posts, chain events.

Alerts and notifications are personal: a key sees its owner's, and an admin key may
name another user with ``user_id`` (any other key naming someone else gets 403, as for
every endpoint that takes ``user_id``). Posts and chain events are shared by everyone.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, JsonValue

from api.consistency import READ_AFTER_HEADERS, AfterWrites, read_after
from api.deps import ActingFor, Context, UserKey
from api.pagination import DEFAULT_LIMIT, Page, cursor_after, page
from api.reading import (
    READ_REFUSALS,
    Cursor,
    Limit,
    Symbol,
    TimeWindow,
    invalid,
    problem_responses,
    time_window,
)
from events.catalog import Engagement, Severity
from projections.model import Document
from projections.readmodels.alert_history import AlertHistory
from projections.readmodels.chain_events import ChainEvents
from projections.readmodels.free_form import from_text
from projections.readmodels.notifications import Notifications
from projections.readmodels.posts import Posts, ticker
from projections.readmodels.recent_alerts import (
    RECENT,
    RecentAlerts,
    recent_alerts_key,
    time_of,
)

router = APIRouter()

AlertsAfter = Annotated[AfterWrites, Depends(read_after(AlertHistory.name))]
NotificationsAfter = Annotated[AfterWrites, Depends(read_after(Notifications.name))]
PostsAfter = Annotated[AfterWrites, Depends(read_after(Posts.name))]
ChainAfter = Annotated[AfterWrites, Depends(read_after(ChainEvents.name))]
Window = Annotated[TimeWindow, Depends(time_window)]
FORBIDDEN = "The key lacks the user scope, or names another user (user_id) without being admin."
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": READ_AFTER_HEADERS},
    **problem_responses(*READ_REFUSALS, s403=FORBIDDEN),
}
MAX_INT64 = 2**63 - 1


class AlertPublic(BaseModel):
    id: UUID = Field(description="The alert.triggered event's id.")
    rule_id: UUID
    user_id: UUID
    subject: str = Field(description="What the rule fired on: a symbol, account or address.")
    condition: str
    severity: Severity
    message: str
    values: dict[str, JsonValue] = Field(description="What the rule compared.")
    trigger_event_id: UUID = Field(description="The event (tick, post, log) it fired on.")
    triggered_at: datetime
    correlation_id: UUID


class NotificationPublic(BaseModel):
    id: UUID = Field(description="The notification event's id.")
    user_id: UUID
    channel_id: str
    channel_kind: str
    status: Literal["sent", "failed"]
    title: str
    text: str
    response: str | None = Field(description="The channel's answer (sent only).")
    error: str | None = Field(description="Why delivery was given up (failed only).")
    attempts: int
    at: datetime
    subject_event_id: UUID = Field(
        description="The alert, reply or channel test that was delivered."
    )


class PostPublic(BaseModel):
    id: str = Field(description="`<source>:<post_id>`")
    source: str
    post_id: str
    author: str
    text: str
    language: str | None
    created_at: datetime
    url: str | None
    engagement: Engagement
    engagement_total: int
    cashtags: list[str]
    symbols: list[str]
    scraped_at: datetime


class ChainEventPublic(BaseModel):
    id: str = Field(description="`<chain_id>:<tx_hash>:<log_index>`")
    chain_id: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str = Field(description="The emitting contract, in lowercase.")
    event: str = Field(description="Decoded event name; empty when the ABI is unknown.")
    args: dict[str, JsonValue]
    removed: bool = Field(description="A reorg removed the log.")
    observed_at: datetime = Field(description="When the log was first seen.")
    updated_at: datetime


def _only(**conditions: object) -> dict[str, Any]:
    """A MongoDB query of the conditions that are set."""
    return {field: value for field, value in conditions.items() if value is not None}


async def _page(
    context: Context,
    name: str,
    query: dict[str, Any],
    *,
    sort_field: str,
    limit: int,
    cursor: str | None,
) -> tuple[list[Document], str | None]:
    collection = await context.read_models.collection(name)
    return await page(collection, query, sort_field=sort_field, limit=limit, cursor=cursor)


@router.get(
    "/alerts",
    tags=["alerts"],
    response_model=Page[AlertPublic],
    summary="Alerts that fired for you, newest first",
    responses=RESPONSES,
)
async def list_alerts(
    *,
    owner_id: ActingFor,
    context: Context,
    after: AlertsAfter,
    window: Window,
    rule_id: Annotated[UUID | None, Query(description="Only this rule's alerts.")] = None,
    subject: Annotated[
        str | None,
        Query(min_length=1, max_length=256, description="Only alerts on this exact subject."),
    ] = None,
    symbol: Annotated[
        Symbol | None, Query(description="Only alerts on this symbol (BTC/USDT or BTC-USDT).")
    ] = None,
    severity: Annotated[Severity | None, Query(description="Only this severity.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AlertPublic]:
    if subject is not None and symbol is not None:
        raise invalid("symbol", "give subject or symbol, not both")
    filters = (rule_id, subject, symbol, severity, window.condition())
    unfiltered = all(value is None for value in filters)
    if unfiltered and cursor is None and limit <= RECENT:
        await replace(after, projection=RecentAlerts.name).wait()
        documents, next_cursor = await _recent_alerts(context, owner_id, limit)
        return Page[AlertPublic](items=_alerts(documents), next_cursor=next_cursor)
    await after.wait()
    query = _only(
        user_id=str(owner_id),
        rule_id=str(rule_id) if rule_id else None,
        subject=subject or symbol,
        severity=severity,
        triggered_at=window.condition(),
    )
    documents, next_cursor = await _page(
        context, AlertHistory.name, query, sort_field="triggered_at", limit=limit, cursor=cursor
    )
    return Page[AlertPublic](items=_alerts(documents), next_cursor=next_cursor)


async def _recent_alerts(
    context: Context, owner_id: UUID, limit: int
) -> tuple[list[Document], str | None]:
    """The first page of the history, merged from the user's recent-alerts documents."""
    collection = await context.read_models.collection(RecentAlerts.name)
    ids = [
        recent_alerts_key(str(owner_id), stream)
        for stream in context.store.names.category_streams("alerts")
    ]
    parts = await collection.find({"_id": {"$in": ids}}).to_list()
    newest = sorted(
        (pair for part in parts for pair in zip(part["order"], part["items"], strict=True)),
        reverse=True,
    )[:limit]
    documents = [json.loads(item) for _, item in newest]
    if not documents or sum(part["count"] for part in parts) <= limit:
        return documents, None
    last_time = time_of(newest[-1][0])
    return documents, cursor_after({**documents[-1], "triggered_at": last_time}, "triggered_at")


def _alerts(documents: list[Document]) -> list[AlertPublic]:
    return [
        AlertPublic.model_validate({**d, "id": d["_id"], "values": from_text(d["values_json"])})
        for d in documents
    ]


@router.get(
    "/notifications",
    tags=["notifications"],
    response_model=Page[NotificationPublic],
    summary="Notifications delivered to you (or given up on), newest first",
    responses=RESPONSES,
)
async def list_notifications(
    *,
    owner_id: ActingFor,
    context: Context,
    after: NotificationsAfter,
    window: Window,
    status: Annotated[Literal["sent", "failed"] | None, Query(description="Only these.")] = None,
    channel_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this channel's.")
    ] = None,
    subject_event_id: Annotated[
        UUID | None,
        Query(description="Only the deliveries of this alert, reply or channel test."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NotificationPublic]:
    await after.wait()
    query = _only(
        user_id=str(owner_id),
        status=status,
        channel_id=channel_id,
        subject_event_id=str(subject_event_id) if subject_event_id else None,
        at=window.condition(),
    )
    documents, next_cursor = await _page(
        context, Notifications.name, query, sort_field="at", limit=limit, cursor=cursor
    )
    items = [NotificationPublic.model_validate({**d, "id": d["_id"]}) for d in documents]
    return Page[NotificationPublic](items=items, next_cursor=next_cursor)


@router.get(
    "/posts",
    tags=["posts"],
    response_model=Page[PostPublic],
    summary="Posts sources scraped, newest first (by when they were published)",
    responses=RESPONSES,
)
async def list_posts(
    *,
    principal: UserKey,
    context: Context,
    after: PostsAfter,
    window: Window,
    symbol: Annotated[
        Symbol | None, Query(description="Only posts about this symbol (BTC/USDT or BTC-USDT).")
    ] = None,
    cashtag: Annotated[
        str | None,
        Query(
            pattern=r"^\$?[A-Za-z0-9]{1,20}$",
            description="Only posts with this cashtag, in any case, with or without `$`.",
        ),
    ] = None,
    author: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    source: Annotated[str | None, Query(pattern=r"^[a-z0-9_.-]{1,32}$")] = None,
    min_engagement: Annotated[
        int | None,
        Query(ge=0, le=MAX_INT64, description="Only posts with at least this engagement."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[PostPublic]:
    await after.wait()
    query = _only(
        symbols=symbol,
        tickers=ticker(cashtag) if cashtag else None,
        author=author,
        source=source,
        engagement_total={"$gte": min_engagement} if min_engagement is not None else None,
        created_at=window.condition(),
    )
    documents, next_cursor = await _page(
        context, Posts.name, query, sort_field="created_at", limit=limit, cursor=cursor
    )
    items = [PostPublic.model_validate({**d, "id": d["_id"]}) for d in documents]
    return Page[PostPublic](items=items, next_cursor=next_cursor)


@router.get(
    "/chain/events",
    tags=["chain"],
    response_model=Page[ChainEventPublic],
    summary="Contract logs seen on chain, newest first (by when they were seen)",
    responses=RESPONSES,
)
async def list_chain_events(
    *,
    principal: UserKey,
    context: Context,
    after: ChainAfter,
    window: Window,
    chain_id: Annotated[int | None, Query(ge=1, le=MAX_INT64)] = None,
    address: Annotated[
        str | None,
        Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="Only this contract's logs."),
    ] = None,
    event: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Only this decoded event.")
    ] = None,
    include_removed: Annotated[
        bool, Query(description="Also logs a reorg removed (marked `removed`).")
    ] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ChainEventPublic]:
    await after.wait()
    query = _only(
        chain_id=chain_id,
        address=address.lower() if address else None,
        event=event,
        removed=None if include_removed else False,
        observed_at=window.condition(),
    )
    documents, next_cursor = await _page(
        context, ChainEvents.name, query, sort_field="observed_at", limit=limit, cursor=cursor
    )
    items = [
        ChainEventPublic.model_validate({**d, "id": d["_id"], "args": from_text(d["args_json"])})
        for d in documents
    ]
    return Page[ChainEventPublic](items=items, next_cursor=next_cursor)
