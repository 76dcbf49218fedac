"""Rebuilding the knowledge base with other embeddings, by replaying the posts' log.

Vectors of two models are never mixed: a reindex fills a new generation and then moves
the pointer to it, so searches see either the old collection or the complete new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from events.catalog.posts import PostScraped
from events.envelope import RecordedEvent
from events.position import Position
from events.store import EventStore
from handlers.rag.chunking import Chunker
from handlers.rag.embeddings import Embeddings
from handlers.rag.indexer import index_items, post_item
from handlers.rag.store import KnowledgeCollection, KnowledgeStore

log = structlog.get_logger(__name__)

BATCH = 256
CATCH_UP_MARGIN = timedelta(seconds=60)
"""How far before the replay's start the catch-up reads again, for clock skew."""

Progress = Callable[[int], None]
"""Told how many more posts were indexed."""


@dataclass(frozen=True, slots=True)
class ReindexResult:
    collection: str
    previous: str | None
    posts: int


async def count_posts(store: EventStore) -> int:
    """Entries in the posts category (an upper bound on posts, for a progress bar)."""
    total = 0
    for stream in store.names.category_streams("posts"):
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
    2. Replay every post into it.
    3. Move the active pointer to it; live indexers follow with their next batch.
    4. Replay again what was appended since step 2 began, since indexers may have
       written those posts to the old generation only (upserts make overlaps harmless).
    5. Drop the previous generation.
    """
    previous = await knowledge.active()
    target = await knowledge.create_generation(embeddings)
    began = datetime.now(UTC)
    posts = await _replay(store, target, embeddings, chunker, since=None, progress=progress)
    await knowledge.activate(target.info.name)
    await _replay(store, target, embeddings, chunker, since=began - CATCH_UP_MARGIN, progress=None)
    if previous is not None and previous.name != target.info.name:
        await knowledge.drop(previous.name)
    log.info(
        "knowledge base reindexed",
        collection=target.info.name,
        previous=previous.name if previous else None,
        posts=posts,
    )
    return ReindexResult(
        collection=target.info.name, previous=previous.name if previous else None, posts=posts
    )


async def _replay(
    store: EventStore,
    target: KnowledgeCollection,
    embeddings: Embeddings,
    chunker: Chunker,
    *,
    since: datetime | None,
    progress: Progress | None,
) -> int:
    start = Position.at_time(since) if since is not None else None
    batch: list[RecordedEvent] = []
    posts = 0
    async for recorded in store.read_category("posts", start=start, types=[PostScraped.event_type]):
        batch.append(recorded)
        if len(batch) >= BATCH:
            posts += await _flush(target, embeddings, chunker, batch, progress)
    return posts + await _flush(target, embeddings, chunker, batch, progress)


async def _flush(
    target: KnowledgeCollection,
    embeddings: Embeddings,
    chunker: Chunker,
    batch: list[RecordedEvent],
    progress: Progress | None,
) -> int:
    done = len(batch)
    await index_items(target, embeddings, chunker, [post_item(r) for r in batch])
    batch.clear()
    if progress is not None:
        progress(done)
    return done
