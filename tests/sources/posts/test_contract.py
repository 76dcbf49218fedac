"""What every post source must do, checked once per implementation.

Each subclass of `PostSourceContract` says how to make its source over a fixed input
(`create_source`) and how to forget what a previous run remembered (`rewind`: a crash
before any cursor was saved); every test below runs against each of them.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from events.catalog import PostScraped
from events.store import EventStore
from sources.posts.cursors import SinceIds
from sources.posts.jsonl_import import PostsImport
from sources.posts.post import post_event
from sources.posts.rss import RssSource
from sources.posts.runner import run_post_source
from sources.posts.source import PostSource
from sources.posts.x_api import XApiSource
from tests.sources.posts.servers import FakeFeeds, FakeX
from tests.sources.posts.support import Limited, stored_posts, take
from tests.sources.servers import serving
from tests.sources.support import FakeClock

BATCHES = 2


class PostSourceContract(ABC):
    source_name: str

    @abstractmethod
    def create_source(self, store: EventStore) -> PostSource: ...

    @abstractmethod
    async def rewind(self, store: EventStore) -> None:
        """Forget what a run remembered outside the store (its cursors)."""

    async def _run(self, store: EventStore) -> tuple[int, int]:
        source = Limited(self.create_source(store), BATCHES)
        status = await run_post_source(source, store, stop=asyncio.Event())
        return status.posts, status.new

    async def test_yields_valid_posts_with_string_ids(self, store: EventStore) -> None:
        posts = await take(self.create_source(store), BATCHES)
        assert posts, "the source yielded no post"
        assert all(isinstance(post, PostScraped) for post in posts)
        assert {post.source for post in posts} == {self.source_name}
        assert all(isinstance(post.post_id, str) for post in posts)

    async def test_events_are_keyed_by_source_and_author_with_stable_ids(
        self, store: EventStore
    ) -> None:
        first = await take(self.create_source(store), BATCHES)
        await self.rewind(store)
        again = await take(self.create_source(store), BATCHES)
        ids = [post_event(post).event_id for post in first]
        assert ids == [post_event(post).event_id for post in again]
        assert len(set(ids)) == len(ids)
        for post in first:
            assert post_event(post).key == f"{post.source}:{post.author}"
            assert post_event(post).occurred_at == post.created_at

    async def test_a_restarted_source_appends_no_duplicates(self, store: EventStore) -> None:
        posts, new = await self._run(store)
        assert posts > 0
        assert new == posts
        await self.rewind(store)
        posts_again, new_again = await self._run(store)
        assert posts_again == posts
        assert new_again == 0
        assert len(await stored_posts(store)) == posts


class TestXApiContract(PostSourceContract):
    source_name = "x"

    @pytest.fixture(autouse=True)
    def _server(self, redis: Redis, prefix: str) -> Iterator[None]:
        fake = FakeX()
        for number in range(1, 16):
            fake.add(number, f"trader_{number % 3}", f"post {number} about $SOL and $BTC")
        with serving(fake.app()) as url:
            self.url, self.redis, self.prefix = url, redis, prefix
            yield

    def create_source(self, store: EventStore) -> PostSource:
        clock = FakeClock()
        return XApiSource(
            "x-test-token",
            cursors=SinceIds(self.redis, self.prefix, "x"),
            queries=["$sol"],
            base_url=self.url,
            page_size=10,
            clock=clock,
            sleep=clock.sleep,
        )

    async def rewind(self, store: EventStore) -> None:
        await self.redis.delete(SinceIds(self.redis, self.prefix, "x").key)


class TestRssContract(PostSourceContract):
    source_name = "rss"

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        fake = FakeFeeds(items=[(n, f"$BTC note {n}", f"summary {n}") for n in range(1, 6)])
        with serving(fake.app()) as url:
            self.url = url
            yield

    def create_source(self, store: EventStore) -> PostSource:
        clock = FakeClock()
        feeds = [f"{self.url}/rss.xml", f"{self.url}/atom.xml"]
        return RssSource(feeds, clock=clock, sleep=clock.sleep)

    async def rewind(self, store: EventStore) -> None:
        """Feed validators live in the source: a new source asks afresh."""


class TestImportContract(PostSourceContract):
    source_name = "demo"

    def create_source(self, store: EventStore) -> PostSource:
        return PostsImport()

    async def rewind(self, store: EventStore) -> None:
        """A file is read from its start every time."""


class TestImportOfAFileContract(PostSourceContract):
    source_name = "import"

    @pytest.fixture(autouse=True)
    def _file(self, tmp_path: Path) -> None:
        self.path = tmp_path / "posts.jsonl"
        lines = [
            f'{{"post_id": "{n}", "author": "a{n % 2}", "text": "gm $ETH",'
            f' "created_at": "2026-11-01T10:0{n}:00Z"}}'
            for n in range(1, 6)
        ]
        self.path.write_text("\n".join(lines) + "\n")

    def create_source(self, store: EventStore) -> PostSource:
        return PostsImport(self.path)

    async def rewind(self, store: EventStore) -> None:
        """A file is read from its start every time."""
