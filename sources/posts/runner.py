"""Running one post source until it ends, fails, or is asked to stop.

1. Open the source (it checks its configuration and raises `SourceInputError` if wrong).
2. Append each batch it yields to the posts category, in atomic batches, before asking
   for the next one (sources save their cursors on resuming, so a cursor never runs
   ahead of the store).
3. Stop when the source runs out, raises, or `stop` is set: a batch being appended is
   let finish and is counted. Posts have stable ids, so whatever a crash leaves
   unappended is written by the next run, and nothing twice.
4. Close the source whatever happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import structlog
from redis.exceptions import RedisError

from events.catalog import PostScraped
from events.errors import InfrastructureError
from events.outages import through_redis_outage
from events.store import MAX_BATCH, EventStore
from sources.posts.post import post_event
from sources.posts.source import PostSource
from sources.pumping import pump, until_stopped

log = structlog.get_logger(__name__)

CATEGORY = PostScraped.category


@dataclass
class PostStatus:
    """What a post source produced so far."""

    posts: int = 0
    new: int = 0
    duplicates: int = 0


PostObserver = Callable[[PostSource, PostStatus], None]
"""Called after every batch (progress bars, status lines)."""


async def append_posts(
    store: EventStore, posts: Sequence[PostScraped], stop: asyncio.Event | None = None
) -> int:
    """Append `posts` in atomic batches; how many of them were new to the store.

    While Redis is away the append waits for it, unless `stop` is set (posts have stable
    ids: one that landed before a lost reply is not written twice, one that did not is
    written by the next run).
    """
    events = [post_event(post) for post in posts]
    new = 0
    try:
        for start in range(0, len(events), MAX_BATCH):
            chunk = events[start : start + MAX_BATCH]
            results = await through_redis_outage(partial(store.append_batch, CATEGORY, chunk), stop)
            new += sum(not result.duplicate for result in results)
    except RedisError as error:
        raise InfrastructureError(f"cannot append posts to Redis: {error}") from error
    return new


async def run_post_source(
    source: PostSource,
    store: EventStore,
    *,
    stop: asyncio.Event,
    observer: PostObserver | None = None,
) -> PostStatus:
    """Run `source` into the posts category; returns what it produced."""
    status = PostStatus()
    try:
        await source.open()
        log.info("post source running", source=source.name)

        async def deliver(batch: Sequence[PostScraped]) -> None:
            _count(status, len(batch), await append_posts(store, batch, stop))

        progress = None if observer is None else lambda: observer(source, status)
        await until_stopped([asyncio.create_task(pump(source.batches(), deliver, progress))], stop)
    finally:
        await source.aclose()
    log.info(
        "post source stopped",
        source=source.name,
        posts=status.posts,
        new=status.new,
        duplicates=status.duplicates,
    )
    return status


def _count(status: PostStatus, posts: int, new: int) -> None:
    status.posts += posts
    status.new += new
    status.duplicates += posts - new
