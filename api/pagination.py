"""Cursor pagination over a read model: stable under inserts, no skipping or repeats.

A page is sorted by one field and `_id` (the tie-breaker); the cursor is the last
item's pair of values, opaque to the client. The next page asks for what sorts after
it, which uses the same index as the first page, however deep the client goes.

A cursor comes back from the client, so it is input like any other: it is decoded
strictly into typed fields (the listing's sort field, a scalar of the kind that field
holds, `SORT_KINDS`, a string id) and only those values reach the query. A cursor
holding anything else, an operator document such as ``{"$regex": ...}`` included, a
value of another kind, or a cursor of another listing, is refused with 400 naming
`cursor`; it never reaches MongoDB.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

import orjson
from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from api.problems import BadParameterError
from projections.model import Document

T = TypeVar("T")

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_ID_CHARS = 512
INT64 = 2**63
"""MongoDB integers are 64-bit: a larger one in a query fails inside the driver."""

SortValue = datetime | int | float | str | None

SORT_KINDS: dict[str, str] = {
    "created_at": "t",
    "last_message_at": "t",
    "triggered_at": "t",
    "observed_at": "t",
    "minute": "t",
    "at": "t",
    "symbol": "s",
    "seq": "i",
}
"""The kind of value each listing's sort field holds (a cursor's kind must match, or it
is refused: ``["created_at", "s", "zzz", id]`` is no cursor we gave). `page` refuses
to sort by a field missing here, so a new listing fails loudly in its first test."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page."""


def _invalid(message: str = "pass back a next_cursor unchanged") -> BadParameterError:
    return BadParameterError("cursor", f"invalid cursor: {message}")


def _encode_value(value: SortValue) -> list[Any]:
    """A sort value as [kind, JSON scalar]: datetimes would otherwise come back as text."""
    if value is None:
        return ["n", None]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, bool):  # a bool is an int to Python, not to MongoDB
        raise TypeError("booleans do not sort pages")
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, float):
        return ["f", value]
    return ["s", value]


def _decode_value(kind: object, raw: object) -> SortValue:
    """The typed value of a cursor's [kind, scalar], or 400."""
    if kind == "n" and raw is None:
        return None
    if kind == "t" and isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise _invalid() from None
        if moment.tzinfo is None:
            raise _invalid()
        return moment
    if kind == "i" and type(raw) is int and -INT64 <= raw < INT64:
        return raw
    if kind == "f" and type(raw) in (int, float):
        return float(raw)  # type: ignore[arg-type]
    if kind == "s" and isinstance(raw, str):
        return raw
    raise _invalid()


def encode_cursor(sort_field: str, value: SortValue, document_id: str) -> str:
    """The cursor of the page that follows the item (`value`, `document_id`)."""
    encoded = _encode_value(value)
    expected = SORT_KINDS.get(sort_field)
    if expected is not None and encoded[0] not in ("n", expected):
        raise TypeError(f"{sort_field} sorts by values of kind {expected!r}, not {encoded[0]!r}")
    raw = orjson.dumps([sort_field, *encoded, document_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort_field: str) -> tuple[SortValue, str]:
    """The (sort value, id) a cursor of the listing sorted by `sort_field` holds, or 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise _invalid() from None
    if not isinstance(decoded, list) or len(decoded) != 4:
        raise _invalid()
    field, kind, raw, document_id = decoded
    if field != sort_field:
        raise _invalid("it belongs to another listing; start again without one")
    if not isinstance(document_id, str) or len(document_id) > MAX_ID_CHARS:
        raise _invalid()
    expected = SORT_KINDS.get(sort_field)
    if expected is not None and kind not in ("n", expected):  # None sorts too: no value
        raise _invalid()
    return _decode_value(kind, raw), document_id


def _sort_kind(sort_field: str) -> str:
    try:
        return SORT_KINDS[sort_field]
    except KeyError:
        msg = f"no kind for the sort field {sort_field!r}: add it to SORT_KINDS"
        raise LookupError(msg) from None


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
    _sort_kind(sort_field)  # every listing says what its sort field holds
    order = -1 if direction == "desc" else 1
    after = "$lt" if order == -1 else "$gt"
    conditions = [query] if query else []
    if cursor is not None:
        value, last_id = decode_cursor(cursor, sort_field)
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
    return encode_cursor(sort_field, _field(document, sort_field), str(document["_id"]))


def _field(document: Document, dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
