"""The ``memory_index`` handler: users' remembered facts, searchable by meaning.

It reads the memory application's log (``memory.fact_recorded``, ``memory.fact_forgotten``)
and keeps one Chroma collection per deployment, ``<prefix>_memory_<embeddings>``, holding
exactly the facts users have now: a recorded fact is upserted under its id, the fact it
superseded and a forgotten fact are deleted. Each vector's metadata carries ``user_id``
(a search never crosses users), ``fact_id``, ``subject`` and ``at`` (epoch seconds).

Replaying the log rewrites the same ids, so the index converges on the same content. A
switch to other embeddings starts a collection of their own name, filled as facts are
recorded; recall meanwhile still has the user's latest facts from the aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from aggregates.memory import Fact
from events.envelope import RecordedEvent
from events.names import StreamNames
from handlers.declaration import handler
from knowledge.config import KnowledgeContext
from knowledge.embeddings import Embeddings
from knowledge.errors import EmbeddingMismatchError, KnowledgeBaseUnavailableError
from knowledge.store import ChunkMetadata, KnowledgeCollection, KnowledgeStore

log = structlog.get_logger(__name__)

GROUP = "memory_index"
ROLE = "memory"
"""The collection's role in its name: ``<prefix>_memory_<embeddings>``."""
APPLICATION = "memory"
RECORDED = "memory.fact_recorded"
FORGOTTEN = "memory.fact_forgotten"


@dataclass(frozen=True, slots=True)
class MemoryHit:
    """A fact found for a query: `score` is the cosine similarity (1: same direction)."""

    fact_id: str
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class IndexedFact:
    user_id: UUID
    fact: Fact


class MemoryIndex:
    """The memory collection, opened: facts in, a user's nearest facts out."""

    def __init__(self, collection: KnowledgeCollection, embeddings: Embeddings) -> None:
        self.collection = collection
        self.embeddings = embeddings

    @classmethod
    async def open(cls, store: KnowledgeStore, embeddings: Embeddings) -> MemoryIndex:
        try:
            collection = await store.open_companion(ROLE, embeddings)
        except EmbeddingMismatchError as error:
            raise KnowledgeBaseUnavailableError(str(error)) from error
        return cls(collection, embeddings)

    async def write(self, facts: Sequence[IndexedFact], deleted: Sequence[str]) -> None:
        """Upsert `facts` and delete the facts of ids `deleted`."""
        if facts:
            vectors = await self.embeddings.embed([item.fact.text for item in facts])
            metadatas: list[ChunkMetadata] = [
                {
                    "user_id": str(item.user_id),
                    "fact_id": item.fact.fact_id,
                    "subject": item.fact.subject,
                    "at": int(item.fact.at.timestamp()),
                }
                for item in facts
            ]
            await self.collection.upsert(
                [item.fact.fact_id for item in facts],
                vectors,
                [item.fact.text for item in facts],
                metadatas,
            )
        if deleted:
            await self.collection.delete_where({"fact_id": {"$in": list(deleted)}})

    async def search(self, user_id: UUID, text: str, k: int) -> list[MemoryHit]:
        """The user's `k` facts nearest to `text`, best first."""
        (vector,) = await self.embeddings.embed([text])
        rows = await self.collection.query(vector, k, {"user_id": {"$eq": str(user_id)}})
        return [MemoryHit(row.id, row.text, 1.0 - row.distance) for row in rows]


def changes(batch: Sequence[RecordedEvent]) -> tuple[list[IndexedFact], list[str]]:
    """What a batch of memory events leaves in the index: the facts to write and the ids
    to delete, each id's last change winning (a fact recorded then forgotten in one
    batch is only deleted)."""
    final: dict[str, IndexedFact | None] = {}
    for recorded in batch:
        payload: Any = recorded.event.payload
        fact = getattr(payload, "fact", None)
        if isinstance(fact, Fact):
            final[fact.fact_id] = IndexedFact(payload.user_id, fact)
            if fact.replaces is not None:
                final[fact.replaces] = None
        elif recorded.event.type == FORGOTTEN:
            final[str(payload.fact_id)] = None
    written = [item for item in final.values() if item is not None]
    return written, [fact_id for fact_id, item in final.items() if item is None]


@handler(
    GROUP,
    categories=["log"],
    tags=[StreamNames.application_tag(APPLICATION)],
    types=[RECORDED, FORGOTTEN],
    context=KnowledgeContext,
)
class MemoryIndexer:
    """Keeps the memory collection equal to the facts users have now."""

    def __init__(self, context: KnowledgeContext) -> None:
        self._knowledge = context.knowledge  # opened, shared and closed by the root

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
        index = await self._knowledge.memory_index()
        written, deleted = changes(batch)
        await index.write(written, deleted)
        log.debug("memory indexed", events=len(batch), written=len(written), deleted=len(deleted))
