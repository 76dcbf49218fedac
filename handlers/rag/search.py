"""Searching the knowledge base: nearest chunks to a query, narrowed by metadata.

Used by the CLI now, and by the agent and the API later. Scores are cosine similarities
(1 is the same direction), since every collection is built with the cosine space.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.rag.embeddings import Embeddings
from handlers.rag.indexer import base_symbol
from handlers.rag.store import KnowledgeStore


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Conditions every returned chunk meets; None leaves a condition out."""

    symbol: str | None = None
    author: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_engagement: int | None = None

    def where(self) -> dict[str, Any] | None:
        """The conditions as a Chroma ``where`` clause."""
        conditions: list[dict[str, Any]] = []
        if self.symbol is not None:
            conditions.append({"symbols": {"$contains": base_symbol(self.symbol)}})
        if self.author is not None:
            conditions.append({"author": {"$eq": self.author}})
        if self.source is not None:
            conditions.append({"source": {"$eq": self.source}})
        if self.since is not None:
            conditions.append({"created_at": {"$gte": int(self.since.timestamp())}})
        if self.until is not None:
            conditions.append({"created_at": {"$lte": int(self.until.timestamp())}})
        if self.min_engagement is not None:
            conditions.append({"engagement": {"$gte": self.min_engagement}})
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One chunk found: its text, how close it is, and its metadata."""

    id: str
    text: str
    score: float
    metadata: dict[str, Any]


async def search(
    store: KnowledgeStore,
    embeddings: Embeddings,
    query: str,
    *,
    k: int = 5,
    filters: SearchFilters | None = None,
) -> list[SearchHit]:
    """The `k` chunks closest to `query`, best first; none while nothing is indexed.

    Raises `EmbeddingMismatchError` if the active collection holds other vectors than
    `embeddings` make: a query vector from another model would match nonsense.
    """
    collection = await store.find_active(embeddings)
    if collection is None:
        return []
    (vector,) = await embeddings.embed([query])
    rows = await collection.query(vector, k, (filters or SearchFilters()).where())
    return [
        SearchHit(id=row.id, text=row.text, score=1.0 - row.distance, metadata=row.metadata)
        for row in rows
    ]
