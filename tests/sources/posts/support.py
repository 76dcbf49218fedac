"""Helpers for post-source tests: taking batches, one poll, reading posts back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable

from events.catalog import PostScraped
from events.store import EventStore
from sources.clock import Sleep
from sources.posts.runner import PostStatus, run_post_source
from sources.posts.source import PostSource
from tests.sources.support import stored
from tests.sources.support import take as take_batches


async def take(source: PostSource, batches: int) -> list[PostScraped]:
    """Open `source`, take the posts of its first `batches` batches, close it."""
    return [post for batch in await take_batches(source, batches) for post in batch]


async def stored_posts(store: EventStore) -> list[PostScraped]:
    """Every `post.scraped` payload in the posts category, in stream order."""
    return await stored(store, PostScraped)


class Limited:
    """A source cut off after a number of batches, so a live feed ends in a test."""

    def __init__(self, inner: PostSource, batches: int) -> None:
        self.inner = inner
        self.limit = batches
        self.name = inner.name

    @property
    def total(self) -> int | None:
        return self.inner.total

    async def open(self) -> None:
        await self.inner.open()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def batches(self) -> AsyncGenerator[list[PostScraped], None]:
        count = 0
        async with contextlib.aclosing(self.inner.batches()) as stream:
            async for batch in stream:
                yield batch
                count += 1
                if count == self.limit:
                    return


async def one_poll(make: Callable[[Sleep], PostSource], store: EventStore) -> PostStatus:
    """Run the source `make` builds through one poll: its first sleep ends the run.

    The source stores its posts and saves its cursors before it sleeps, so this is a
    restart at the quietest moment.
    """
    stop = asyncio.Event()

    async def end_of_poll(seconds: float) -> None:
        stop.set()
        await asyncio.Event().wait()  # until the runner cancels the pump

    return await run_post_source(make(end_of_poll), store, stop=stop)
