"""The RSS/Atom source against a local server publishing feeds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from aggregates.services.watches import Watches
from events.store import EventStore
from sources.errors import SourceInputError
from sources.posts.follows import Follows
from sources.posts.rss import RssSource
from tests.sources.posts.servers import FakeFeeds
from tests.sources.posts.support import take
from tests.sources.servers import serving
from tests.sources.support import FakeClock


@pytest.fixture
def fake() -> FakeFeeds:
    return FakeFeeds(items=[(1, "$SOL breaks out", "Traders <b>cheer</b> &amp; wait")])


@pytest.fixture
def url(fake: FakeFeeds) -> Iterator[str]:
    with serving(fake.app()) as base:
        yield base


def rss_source(*feeds: str, follows: Follows | None = None) -> RssSource:
    clock = FakeClock()
    return RssSource(feeds, follows=follows, clock=clock, sleep=clock.sleep)


async def test_rss_items_become_posts(url: str) -> None:
    [post] = await take(rss_source(f"{url}/rss.xml"), 1)
    assert post.source == "rss"
    assert post.post_id == "news-1"
    assert post.author == "Harbor Ledger News"
    assert post.text == "$SOL breaks out\n\nTraders cheer & wait"
    assert post.url == "https://news.example/1"
    assert post.language == "en-us"
    assert post.created_at == datetime(2026, 11, 1, 10, 1, tzinfo=UTC)
    assert post.cashtags == ("SOL",)
    assert post.symbols == ("SOL/USDT",)


async def test_atom_entries_become_posts(url: str) -> None:
    [post] = await take(rss_source(f"{url}/atom.xml"), 1)
    assert (post.post_id, post.author) == ("urn:uuid:fern-1", "delta_fern")
    assert post.text == "$ETH staking report\n\nYields fell on ETH/USDT flows."
    assert post.symbols == ("ETH/USDT",)
    assert post.created_at == datetime(2026, 11, 1, 12, tzinfo=UTC)


async def test_an_unchanged_feed_is_answered_304_and_yields_nothing_new(
    fake: FakeFeeds, url: str
) -> None:
    source = rss_source(f"{url}/rss.xml", f"{url}/atom.xml")
    posts = await take(source, 3)
    assert [post.post_id for post in posts] == ["news-1", "urn:uuid:fern-1", "urn:uuid:fern-1"]
    assert fake.not_modified == 1


async def test_a_broken_feed_is_skipped_and_the_others_go_on(url: str) -> None:
    source = rss_source(f"{url}/broken.xml", f"{url}/missing.xml", f"{url}/atom.xml")
    posts = await take(source, 1)
    assert [post.post_id for post in posts] == ["urn:uuid:fern-1"]


async def test_watched_feed_urls_are_polled(
    url: str, store: EventStore, redis_url: str, prefix: str, redis: Redis
) -> None:
    env = {
        "PERSISTENCE_MODULE": "events.eventsourcing_redis",
        "REDIS_URL": redis_url,
        "IMPRESSOX_STREAM_PREFIX": prefix,
    }
    watches = Watches(env)
    try:
        await asyncio.to_thread(watches.follow_account, uuid4(), "rss", f"{url}/atom.xml")
    finally:
        watches.close()
    posts = await take(rss_source(follows=Follows(store)), 1)
    assert [post.author for post in posts] == ["delta_fern"]


def test_a_feed_must_be_an_http_url() -> None:
    with pytest.raises(SourceInputError, match=r"invalid feed URL 'news\.example/rss'"):
        RssSource(["news.example/rss"])
    with pytest.raises(SourceInputError, match="needs a feed URL"):
        RssSource([])
