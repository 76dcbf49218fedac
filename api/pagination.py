"""Cursor pagination over a read model: stable under inserts, no skipping or repeats.

A page is sorted by one field and `_id` (the tie-breaker); the cursor is the last
item's pair of values, opaque to the client. The next page asks for what sorts after
it, which uses the same index as the first page, however deep the client goes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Generic, Literal, TypeVar

from bson import json_util
from fastapi import HTTPException
from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from projections.model import Document

T = TypeVar("T")

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page."""


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json_util.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json_util.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, TypeError):
        raise HTTPException(400, "invalid cursor: pass back a next_cursor unchanged") from None
    if not isinstance(values, list) or len(values) != 2:
        raise HTTPException(400, "invalid cursor: pass back a next_cursor unchanged")
    return values


async def page(
    collection: AsyncCollection[Document],
    query: dict[str, Any],
    *,
    sort_field: str,
    direction: Literal["asc", "desc"] = "desc",
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Document], str | None]:
    """One page of documents matching `query`, and the cursor of the next page."""
    order = -1 if direction == "desc" else 1
    after = "$lt" if order == -1 else "$gt"
    conditions = [query] if query else []
    if cursor is not None:
        value, last_id = _decode(cursor)
        conditions.append(
            {"$or": [{sort_field: {after: value}}, {sort_field: value, "_id": {after: last_id}}]}
        )
    filter_ = {"$and": conditions} if len(conditions) > 1 else (conditions[0] if conditions else {})
    documents = (
        await collection.find(filter_)
        .sort([(sort_field, order), ("_id", order)])
        .limit(limit + 1)
        .to_list()
    )
    if len(documents) <= limit:
        return documents, None
    documents = documents[:limit]
    return documents, cursor_after(documents[-1], sort_field)


def cursor_after(document: Document, sort_field: str) -> str:
    """The cursor of the page that follows `document` in `sort_field` order."""
    return _encode([_field(document, sort_field), document["_id"]])


def _field(document: Document, dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
