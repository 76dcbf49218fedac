"""The X source against a local server speaking X API v2."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from aggregates.services.watches import Watches
from events.catalog import Engagement
from events.store import EventStore
from sources.clock import Sleep
from sources.errors import VenueError
from sources.posts.cursors import SinceIds
from sources.posts.follows import Follows
from sources.posts.x_api import XApiSource
from tests.sources.posts.servers import BASE_ID, FakeX
from tests.sources.posts.support import one_poll, stored_posts, take
from tests.sources.servers import serving
from tests.sources.support import START, FakeClock

RESET_AFTER_S = 300


@pytest.fixture
def fake() -> FakeX:
    return FakeX(reset_at=int(START.timestamp()) + RESET_AFTER_S)


@pytest.fixture
def url(fake: FakeX) -> Iterator[str]:
    with serving(fake.app()) as base:
        yield base


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cursors(redis: Redis, prefix: str) -> SinceIds:
    return SinceIds(redis, prefix, "x")


@pytest.fixture
def watches(redis_url: str, prefix: str) -> Iterator[Watches]:
    app = Watches(
        {
            "PERSISTENCE_MODULE": "events.eventsourcing_redis",
            "REDIS_URL": redis_url,
            "IMPRESSOX_STREAM_PREFIX": prefix,
        }
    )
    yield app
    app.close()


def x_source(
    url: str,
    cursors: SinceIds,
    clock: FakeClock,
    *,
    token: str | None = None,
    sleep: Sleep | None = None,
    **options: object,
) -> XApiSource:
    return XApiSource(
        token or FakeX.token,
        cursors=cursors,
        base_url=url,
        page_size=10,
        clock=clock,
        sleep=sleep or clock.sleep,
        **options,  # type: ignore[arg-type]
    )


async def test_pages_are_read_and_a_restart_resumes_from_the_saved_cursor(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock, store: EventStore
) -> None:
    for number in range(1, 26):
        fake.add(number, "harbor_quant", f"note {number} on $SOL")

    def make(sleep: Sleep) -> XApiSource:
        return x_source(url, cursors, clock, sleep=sleep, queries=["$sol"])

    first = await one_poll(make, store)
    assert (first.posts, first.new) == (25, 25)
    stored = [post.post_id for post in await stored_posts(store)]
    assert sorted(stored) == [str(BASE_ID + n) for n in range(1, 26)]
    assert [query.get("next_token") for _, query in fake.requests] == [None, "10", "20"]
    assert await cursors.get("$sol") == str(BASE_ID + 25)

    fake.add(26, "harbor_quant", "note 26 on $SOL")
    fake.requests.clear()
    again = await one_poll(make, store)
    assert (again.posts, again.new) == (1, 1)
    assert fake.requests[0][1]["since_id"] == str(BASE_ID + 25)
    assert await cursors.get("$sol") == str(BASE_ID + 26)


async def test_a_cursor_moves_only_once_the_whole_poll_is_stored(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    for number in range(1, 26):
        fake.add(number, "harbor_quant", f"note {number} on $SOL")
    taken = await take(x_source(url, cursors, clock, queries=["$sol"]), 3)
    assert len(taken) == 25
    assert await cursors.get("$sol") is None, "the last page was never confirmed stored"


async def test_a_post_carries_author_engagement_cashtags_and_symbols(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    fake.add(7, "mira_onchain", "Rotating $eth into $SOL; watching BTC/USDT", likes=42)
    [post] = await take(x_source(url, cursors, clock, queries=["rotating"]), 1)
    assert post.source == "x"
    assert post.post_id == "1850000000000000007"
    assert post.author == "mira_onchain"
    assert post.url == "https://x.com/mira_onchain/status/1850000000000000007"
    assert post.language == "en"
    assert post.created_at == datetime(2026, 11, 1, 10, 7, tzinfo=UTC)
    assert post.engagement == Engagement(likes=42, reposts=1, replies=2, quotes=3)
    assert post.cashtags == ("ETH", "SOL")
    assert post.symbols == ("BTC/USDT", "ETH/USDT", "SOL/USDT")


async def test_a_spent_quota_is_waited_out_until_its_reset(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    for number in range(1, 16):
        fake.add(number, "ledgerlark", f"$BTC {number}")
    fake.exhaust_after = 1
    posts = await take(x_source(url, cursors, clock, queries=["$btc"]), 2)
    assert len(posts) == 15
    assert clock.sleeps == [RESET_AFTER_S]


async def test_a_429_is_waited_out_until_its_reset(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    fake.add(1, "ledgerlark", "$BTC once")
    fake.failures.append((429, {"x-rate-limit-reset": str(fake.reset_at)}))
    posts = await take(x_source(url, cursors, clock, queries=["$btc"]), 1)
    assert [post.text for post in posts] == ["$BTC once"]
    assert clock.sleeps == [RESET_AFTER_S]


async def test_server_errors_are_retried(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    fake.add(1, "ledgerlark", "$BTC after the outage")
    fake.failures += [(503, {}), (500, {})]
    posts = await take(x_source(url, cursors, clock, queries=["$btc"]), 1)
    assert len(posts) == 1
    assert len(clock.sleeps) == 2


async def test_a_refused_token_stops_the_source_without_showing_it(
    url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    source = x_source(url, cursors, clock, token="wrong-secret-token", queries=["$btc"])
    with pytest.raises(VenueError) as refusal:
        await take(source, 1)
    assert "HTTP 401" in str(refusal.value)
    assert "IMPRESSOX_X_BEARER_TOKEN" in str(refusal.value)
    assert "wrong-secret-token" not in str(refusal.value)


async def test_a_rejected_query_is_skipped_and_the_others_go_on(
    fake: FakeX, url: str, cursors: SinceIds, clock: FakeClock
) -> None:
    fake.add(1, "ledgerlark", "$SOL is fine")
    posts = await take(x_source(url, cursors, clock, queries=["(bad", "$sol"]), 1)
    assert [post.text for post in posts] == ["$SOL is fine"]


async def test_watched_accounts_and_keywords_of_every_user_are_followed(
    fake: FakeX, url: str, cursors: SinceIds, store: EventStore, watches: Watches
) -> None:
    fake.add(1, "coastal_charts", "chart of the day")
    fake.add(2, "pixel_yields", "yields on $eth")
    fake.add(3, "nightowl_dex", "not followed by anyone")
    alice, bob = uuid4(), uuid4()
    await asyncio.to_thread(watches.follow_account, alice, "x", "@coastal_charts")
    await asyncio.to_thread(watches.follow_account, bob, "x", "ghost_account")
    await asyncio.to_thread(watches.follow_account, bob, "rss", "https://news.example/rss.xml")
    await asyncio.to_thread(watches.follow_keyword, bob, "$ETH")
    source = x_source(url, cursors, FakeClock(), follows=Follows(store))
    posts = await take(source, 2)
    assert sorted(post.author for post in posts) == ["coastal_charts", "pixel_yields"]
    searched = [query["query"] for path, query in fake.requests if "search" in path]
    assert searched == ["$eth"]
    assert any(path == "/2/users/by/username/ghost_account" for path, _ in fake.requests)


async def test_unfollowed_accounts_and_keywords_are_dropped(
    store: EventStore, watches: Watches
) -> None:
    alice, bob = uuid4(), uuid4()
    await asyncio.to_thread(watches.follow_account, alice, "x", "coastal_charts")
    await asyncio.to_thread(watches.follow_account, bob, "x", "coastal_charts")
    await asyncio.to_thread(watches.follow_keyword, alice, "solana season")
    follows = Follows(store)
    await follows.refresh()
    assert follows.accounts("x") == ["coastal_charts"]
    assert follows.keywords() == ["solana season"]
    await asyncio.to_thread(watches.unfollow_account, alice, "x", "coastal_charts")
    await asyncio.to_thread(watches.unfollow_keyword, alice, "solana season")
    await follows.refresh()
    assert follows.accounts("x") == ["coastal_charts"], "bob still follows it"
    assert follows.keywords() == []
    await asyncio.to_thread(watches.unfollow_account, bob, "x", "coastal_charts")
    await follows.refresh()
    assert follows.accounts("x") == []
