"""The RSS/Atom source against a local server publishing feeds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from aggregates.destinations import DestinationPolicy
from aggregates.errors import InvalidCommandError
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


def rss_source(
    *feeds: str, follows: Follows | None = None, destinations: DestinationPolicy | None = None
) -> RssSource:
    clock = FakeClock()
    return RssSource(
        feeds, follows=follows, destinations=destinations, clock=clock, sleep=clock.sleep
    )


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


LOCAL = DestinationPolicy.allowing(["127.0.0.1"])
"""The tests' feed server stands for a public one."""


def watches_of(redis_url: str, prefix: str, policy: DestinationPolicy) -> Watches:
    return Watches(
        {
            "PERSISTENCE_MODULE": "events.eventsourcing_redis",
            "REDIS_URL": redis_url,
            "IMPRESSOX_STREAM_PREFIX": prefix,
        },
        destinations=policy,
    )


async def follow(watches: Watches, *feeds: str) -> None:
    try:
        for feed in feeds:
            await asyncio.to_thread(watches.follow_account, uuid4(), "rss", feed)
    finally:
        watches.close()


async def test_watched_feed_urls_are_polled(
    url: str, store: EventStore, redis_url: str, prefix: str, redis: Redis
) -> None:
    await follow(watches_of(redis_url, prefix, LOCAL), f"{url}/atom.xml")
    posts = await take(rss_source(follows=Follows(store), destinations=LOCAL), 1)
    assert [post.author for post in posts] == ["delta_fern"]


def test_a_watched_feed_must_reach_a_public_address(redis_url: str, prefix: str) -> None:
    watches = watches_of(redis_url, prefix, DestinationPolicy())
    try:
        for feed in ("http://127.0.0.1:6379/", "https://169.254.169.254/feed", "gopher://x/"):
            with pytest.raises(InvalidCommandError) as refused:
                watches.follow_account(uuid4(), "rss", feed)
            assert refused.value.field == "handle"
    finally:
        watches.close()


@pytest.mark.usefixtures("redis")  # removes the test's keys afterwards
async def test_the_source_never_connects_to_a_refused_watched_feed(
    fake: FakeFeeds, url: str, store: EventStore, redis_url: str, prefix: str
) -> None:
    """A feed that became refused after it was watched (DNS changes; an older watch) is
    not fetched, and a redirect is followed only to an allowed address: the source asks
    only `localhost` (allowed by name) and never 127.0.0.1 (refused by address)."""
    by_name = url.replace("127.0.0.1", "localhost")
    await follow(
        watches_of(redis_url, prefix, DestinationPolicy.allowing(["127.0.0.1", "localhost"])),
        f"{url}/rss.xml",
        f"{by_name}/redirect.xml?to={url}",
        f"{by_name}/atom.xml",
    )
    source = rss_source(
        follows=Follows(store), destinations=DestinationPolicy.allowing(["localhost"])
    )
    posts = await take(source, 2)  # the Atom feed each poll: two polls, every feed asked
    assert [post.author for post in posts] == ["delta_fern"] * 2
    assert set(fake.paths) == {"/redirect.xml", "/atom.xml"}


def test_a_feed_must_be_an_http_url() -> None:
    with pytest.raises(SourceInputError, match=r"invalid feed URL 'news\.example/rss'"):
        RssSource(["news.example/rss"])
    with pytest.raises(SourceInputError, match="needs a feed URL"):
        RssSource([])
