"""Rebuilding the knowledge base with other embeddings, by replaying the log.

Vectors of two models are never mixed: a reindex fills a new generation and then moves
the pointer to it, so searches see either the old collection or the complete new one.
The log is the posts' and the documents' categories; a document's additions and
removals share its partition, so replaying them in order leaves only what is present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from events.catalog.documents import DocumentAdded, DocumentRemoved
from events.catalog.posts import PostScraped
from events.envelope import RecordedEvent
from events.position import Position
from events.store import EventStore
from knowledge.chunking import Chunker
from knowledge.embeddings import Embeddings
from knowledge.indexer import apply_events
from knowledge.store import KnowledgeCollection, KnowledgeStore

log = structlog.get_logger(__name__)

BATCH = 256
CATCH_UP_MARGIN = timedelta(seconds=60)
"""How far before the replay's start the catch-up reads again, for clock skew."""
SOURCES: dict[str, list[str]] = {
    PostScraped.category: [PostScraped.event_type],
    DocumentAdded.category: [DocumentAdded.event_type, DocumentRemoved.event_type],
}
"""The categories the knowledge base is built from, and the types it reads of each."""

Progress = Callable[[int], None]
"""Told how many more entries were replayed."""


@dataclass(frozen=True, slots=True)
class ReindexResult:
    collection: str
    previous: str | None
    posts: int
    documents: int
    """Document events replayed: additions and removals."""


@dataclass
class _Counts:
    posts: int = 0
    documents: int = 0


async def count_entries(store: EventStore) -> int:
    """Entries in the categories replayed (an upper bound, for a progress bar)."""
    total = 0
    for category in SOURCES:
        for stream in store.names.category_streams(category):
            total += int(await store.redis.xlen(stream))
    return total


async def reindex(
    store: EventStore,
    knowledge: KnowledgeStore,
    embeddings: Embeddings,
    chunker: Chunker,
    *,
    progress: Progress | None = None,
) -> ReindexResult:
    """Build a new generation with `embeddings` and make it the active one.

    1. Create an empty generation recording `embeddings`' model and dimension.
    2. Replay every post and every document event into it.
    3. Move the active pointer to it; live indexers follow with their next batch.
    4. Replay again what was appended since step 2 began, since indexers may have
       written those entries to the old generation only (upserts make overlaps harmless,
       and a removal replayed after its addition removes it again).
    5. Drop the previous generation.
    """
    previous = await knowledge.active()
    target = await knowledge.create_generation(embeddings)
    began = datetime.now(UTC)
    counts = await _replay(store, target, embeddings, chunker, since=None, progress=progress)
    await knowledge.activate(target.info.name)
    await _replay(store, target, embeddings, chunker, since=began - CATCH_UP_MARGIN, progress=None)
    if previous is not None and previous.name != target.info.name:
        await knowledge.drop(previous.name)
    log.info(
        "knowledge base reindexed",
        collection=target.info.name,
        previous=previous.name if previous else None,
        posts=counts.posts,
        documents=counts.documents,
    )
    return ReindexResult(
        collection=target.info.name,
        previous=previous.name if previous else None,
        posts=counts.posts,
        documents=counts.documents,
    )


async def _replay(
    store: EventStore,
    target: KnowledgeCollection,
    embeddings: Embeddings,
    chunker: Chunker,
    *,
    since: datetime | None,
    progress: Progress | None,
) -> _Counts:
    start = Position.at_time(since) if since is not None else None
    counts = _Counts()
    for category, types in SOURCES.items():
        batch: list[RecordedEvent] = []
        replayed = 0
        async for recorded in store.read_category(category, start=start, types=types):
            batch.append(recorded)
            if len(batch) >= BATCH:
                replayed += await _flush(target, embeddings, chunker, batch, progress)
        replayed += await _flush(target, embeddings, chunker, batch, progress)
        if category == PostScraped.category:
            counts.posts = replayed
        else:
            counts.documents = replayed
    return counts


async def _flush(
    target: KnowledgeCollection,
    embeddings: Embeddings,
    chunker: Chunker,
    batch: list[RecordedEvent],
    progress: Progress | None,
) -> int:
    done = len(batch)
    await apply_events(target, embeddings, chunker, batch)
    batch.clear()
    if progress is not None and done:
        progress(done)
    return done
