"""What a rebuild would change: a read model's active collection against a scratch one.

The active collection is read in batches; each batch's documents are looked up in the
scratch one by id (one ``$in`` query), then the scratch ids never seen are the added
documents. The comparison stops after `max_documents` active documents (`truncated`
says so). Each document's ``_pos`` (the position of the last event applied) is left
out: two generations at different points of a live stream differ there without
disagreeing about anything, and a fold that changed shows in the fields.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo.asynchronous.collection import AsyncCollection

from projections.model import Document

IGNORED = ("_pos",)
"""Bookkeeping, not content (see the module docstring)."""

Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class DocumentChange:
    """One document a rebuild would add, remove or change (`before` live, `after` scratch)."""

    id: str
    change: Change
    before: Document | None
    after: Document | None


@dataclass
class CollectionDiff:
    compared: int = 0
    """Documents of the active collection compared."""
    unchanged: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    samples: list[DocumentChange] = field(default_factory=list)
    truncated: bool = False


async def diff_collections(
    live: AsyncCollection[Document],
    scratch: AsyncCollection[Document],
    *,
    samples: int = 20,
    max_documents: int = 100_000,
    batch: int = 500,
) -> CollectionDiff:
    """The documents `scratch` adds, removes or changes relative to `live` (module doc)."""
    result = CollectionDiff()
    seen: set[Hashable] = set()
    pending: list[Document] = []
    async for document in live.find({}).sort("_id", 1):
        if result.compared >= max_documents:
            result.truncated = True
            break
        pending.append(document)
        result.compared += 1
        if len(pending) == batch:
            await _compare(pending, scratch, result, seen, samples)
            pending = []
    await _compare(pending, scratch, result, seen, samples)
    if result.truncated:
        return result  # the scratch ids past the cut were never looked for: not "added"
    async for head in scratch.find({}, {"_id": 1}).sort("_id", 1):
        if _key(head["_id"]) in seen:
            continue
        after = (
            await scratch.find_one({"_id": head["_id"]}) if len(result.samples) < samples else None
        )
        _note(result, "added", None, after or head, samples)
    return result


async def _compare(
    documents: list[Document],
    scratch: AsyncCollection[Document],
    result: CollectionDiff,
    seen: set[Hashable],
    samples: int,
) -> None:
    if not documents:
        return
    ids = [document["_id"] for document in documents]
    found = {_key(d["_id"]): d async for d in scratch.find({"_id": {"$in": ids}})}
    for before in documents:
        key = _key(before["_id"])
        seen.add(key)
        after = found.get(key)
        if after is None:
            _note(result, "removed", before, None, samples)
        elif _content(before) == _content(after):
            result.unchanged += 1
        else:
            _note(result, "changed", before, after, samples)


def _key(value: Any) -> Hashable:
    """An id as a set member: ids of different BSON types never collide."""
    return type(value).__name__, repr(value)


def _content(document: Document) -> Document:
    return {name: value for name, value in document.items() if name not in IGNORED}


def _note(
    result: CollectionDiff,
    change: Change,
    before: Document | None,
    after: Document | None,
    samples: int,
) -> None:
    setattr(result, change, getattr(result, change) + 1)
    if len(result.samples) < samples:
        identifier = (before or after or {}).get("_id")
        result.samples.append(
            DocumentChange(
                id=str(identifier),
                change=change,
                before=_content(before) if before is not None else None,
                after=_content(after) if after is not None else None,
            )
        )
