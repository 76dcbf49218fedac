"""Post rules: matching keywords, cashtags and accounts; frequency; alerts in the runtime.

The index is tested on its own first (pure logic), then the `rules` handler in the real
runtime: a rule created through the AlertRules service, posts appended to the posts
category, alerts and firings on the record, a redelivery and a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

import rules.recorder  # noqa: F401 - registers rule-firings
from aggregates.alert_rule import AlertRule
from aggregates.rule_spec import RuleSpec
from aggregates.services.bundle import Services
from events.catalog import AlertTriggered, Engagement, PostScraped
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.settings import Settings
from notify.rendering import Notice, discord_message
from rules.firing import RuleState
from rules.handler import GROUP
from rules.post_alerts import post_alert, post_message
from rules.posts import PostFiring, PostRuleIndex
from rules.rule_book import SNAPSHOT_TAG, RuleBook
from rules.snapshots import snapshot_key
from sources.posts.post import cashtags_in, post_event, symbols_in
from tests.contexts import Contexts
from tests.handlers.support import FAST, read_all, running, wait_until
from tests.readside import isolated_settings

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
_post_ids = count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def post(
    text: str,
    *,
    author: str = "whale",
    likes: int = 0,
    quotes: int = 0,
    cashtags: tuple[str, ...] | None = None,
    symbols: tuple[str, ...] | None = None,
    linked: bool = True,
) -> PostScraped:
    post_id = str(next(_post_ids))
    return PostScraped(
        source="x",
        post_id=post_id,
        author=author,
        text=text,
        created_at=T0,
        url=f"https://x.com/{author}/status/{post_id}" if linked else None,
        engagement=Engagement(likes=likes, quotes=quotes),
        cashtags=cashtags_in(text) if cashtags is None else cashtags,
        symbols=symbols_in(text) if symbols is None else symbols,
    )


def spec(
    keyword: str | None = None,
    account: str | None = None,
    *,
    min_engagement: int = 0,
    frequency: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    template: str | None = None,
) -> dict[str, Any]:
    return {
        "target": {"kind": "posts", "keyword": keyword, "account": account},
        "condition": {"type": "mentioned", "min_engagement": min_engagement},
        "frequency": frequency or {"kind": "every_time", "cooldown_s": 0},
        "expires_at": expires_at,
        "channels": ["web"],
        "message_template": template,
    }


def state(
    keyword: str | None = None,
    account: str | None = None,
    *,
    status: str = "active",
    armed_at: datetime | None = T0,
    **options: Any,
) -> RuleState:
    return RuleState(
        rule_id=uuid4(),
        owner_id=uuid4(),
        spec=RuleSpec.model_validate(spec(keyword, account, **options)),
        status=status,
        armed_at=armed_at,
    )


def index_of(*rules: RuleState) -> PostRuleIndex:
    index = PostRuleIndex()
    for rule in rules:
        index.upsert(rule)
    return index


def fired(index: PostRuleIndex, scraped: PostScraped, second: float = 0) -> list[UUID]:
    return [firing.state.rule_id for firing in index.evaluate(scraped, at(second))]


# -- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("SOL is waking up", True),
        ("loading more $sol.", True),
        ("SOL/USDT breaks out", True),
        ("(sol) again", True),
        ("Solana news", False),
        ("consolidation ahead", False),
        ("nothing here", False),
    ],
)
def test_a_keyword_matches_whole_words_in_any_case(text: str, matches: bool) -> None:
    rule = state("SOL")
    assert fired(index_of(rule), post(text)) == ([rule.rule_id] if matches else [])


def test_cashtag_and_plain_spellings_are_one_rule_and_match_the_posts_tags() -> None:
    dollar, plain = state("$SOL"), state("sol")
    index = index_of(dollar, plain)
    both = sorted([dollar.rule_id, plain.rule_id])
    assert fired(index, post("$SOL to the moon"), 1) == both
    # Tags a source extracted (or an import gave) match even when the text does not say it.
    assert fired(index, post("this one", cashtags=("SOL",), symbols=()), 2) == both
    assert fired(index, post("that one", cashtags=(), symbols=("SOL/USDT",)), 3) == both


def test_a_symbol_matches_as_a_pair_but_a_quote_does_not_match_every_cashtag() -> None:
    pair, quote = state("ETH/USDT"), state("USDT")
    index = index_of(pair, quote)
    assert fired(index, post("$ETH looks strong"), 1) == [pair.rule_id]  # symbol ETH/USDT
    assert fired(index, post("eth/usdt at 4k"), 2) == sorted([pair.rule_id, quote.rule_id])
    assert fired(index, post("USDT depeg rumours"), 3) == [quote.rule_id]


def test_a_phrase_matches_its_words_in_a_row() -> None:
    rule = state("spot ETF")
    index = index_of(rule)
    assert fired(index, post("SEC approves a Spot  ETF!"), 1) == [rule.rule_id]
    assert fired(index, post("the ETF spot market"), 2) == []
    assert fired(index, post("spot etfs"), 3) == []


def test_an_account_matches_the_author_and_with_a_keyword_needs_both() -> None:
    anything, about_sol = state(account="@Whale"), state("SOL", "whale")
    index = index_of(anything, about_sol)
    assert fired(index, post("gm", author="WHALE"), 1) == [anything.rule_id]
    assert fired(index, post("$SOL", author="whale"), 2) == sorted(
        [anything.rule_id, about_sol.rule_id]
    )
    assert fired(index, post("$SOL", author="whale2"), 3) == []
    assert fired(index, post("$SOL", author="shrimp"), 4) == []


def test_min_engagement_counts_likes_reposts_replies_and_quotes() -> None:
    rule = state("BTC", min_engagement=10)
    index = index_of(rule)
    assert fired(index, post("BTC", likes=9), 1) == []
    assert fired(index, post("BTC", likes=9, quotes=1), 2) == [rule.rule_id]


# -- frequency, status, arming ---------------------------------------------------------------


def test_every_time_waits_out_its_cooldown() -> None:
    rule = state("BTC", frequency={"kind": "every_time", "cooldown_s": 60})
    index = index_of(rule)
    times = [0, 30, 59.9, 60, 61, 120]
    assert [bool(fired(index, post("BTC"), second)) for second in times] == [
        True,
        False,
        False,
        True,
        False,
        True,
    ]


def test_at_most_once_per_interval() -> None:
    rule = state("BTC", frequency={"kind": "at_most_once_per", "interval_s": 3600})
    index = index_of(rule)
    assert [bool(fired(index, post("BTC"), s)) for s in (0, 1800, 3600)] == [True, False, True]


def test_a_once_rule_fires_once_and_a_lagging_active_state_does_not_revive_it() -> None:
    rule = state("BTC", frequency={"kind": "once"})
    index = index_of(rule)
    assert fired(index, post("BTC"), 1) == [rule.rule_id]
    assert len(index) == 0
    (held,) = index.rules()
    assert held.status == "completed"
    assert held.trigger_count == 1
    index.upsert(rule)  # the log has not recorded the firing yet
    assert fired(index, post("BTC"), 2) == []


def test_paused_expired_and_unarmed_rules_are_silent() -> None:
    paused = state("BTC", status="paused")
    expiring = state("BTC", expires_at=at(10))
    late = state("BTC", armed_at=at(5))
    index = index_of(paused, expiring, late)
    assert fired(index, post("BTC"), 1) == [expiring.rule_id]  # arrived before `late` armed
    assert fired(index, post("BTC"), 10) == [late.rule_id]  # `expiring` reached its expiry
    index.upsert(replace(paused, status="active"))
    assert fired(index, post("BTC"), 11) == sorted([paused.rule_id, late.rule_id])


def test_a_changed_or_removed_rule_stops_matching_what_it_watched() -> None:
    rule = state("BTC")
    index = index_of(rule)
    moved = replace(rule, spec=RuleSpec.model_validate(spec("ETH")))
    index.upsert(moved)
    assert fired(index, post("BTC"), 1) == []
    assert fired(index, post("ETH"), 2) == [rule.rule_id]
    price_rule = RuleSpec.model_validate(
        {
            "target": {"kind": "symbol", "symbol": "ETH/USDT"},
            "condition": {"type": "above", "threshold": 1},
            "channels": ["web"],
        }
    )
    index.upsert(replace(rule, spec=price_rule))
    assert list(index.rules()) == []
    assert fired(index, post("ETH"), 3) == []


def test_posts_arriving_in_the_same_instant_fire_at_distinct_times() -> None:
    rule = state("BTC")
    index = index_of(rule)
    first = index.evaluate(post("BTC"), at(1))
    second = index.evaluate(post("BTC"), at(1))
    earlier = index.evaluate(post("BTC"), at(0))  # another partition, handled later
    times = [firing.at for firing in (*first, *second, *earlier)]
    assert times == sorted(set(times))
    assert len(times) == 3
    assert times[0] == at(1)


# -- the alert -----------------------------------------------------------------------------


def test_the_default_message_says_who_mentioned_what_with_what_engagement() -> None:
    rule = state("SOL", min_engagement=1000)
    scraped = post("$sol   is\nbreaking out", likes=1200, quotes=34)
    (firing,) = index_of(rule).evaluate(scraped, at(0))
    alert = post_alert(firing, scraped, uuid4(), "x:whale")
    url = scraped.url
    assert alert.message == f"@whale mentioned $SOL (1,234 engagement): $sol is breaking out {url}"
    assert alert.subject == "SOL"
    assert alert.condition == "mentioned"
    assert alert.partition_key() == "x:whale"
    assert alert.values["author"] == "whale"
    assert alert.values["url"] == url
    assert alert.values["engagement"] == alert.values["value"] == 1234
    assert alert.values["threshold"] == 1000
    assert alert.triggered_at == at(0)


def test_an_account_rule_says_posted_and_a_long_post_is_cut_at_a_word() -> None:
    rule = state(account="whale")
    words = "word " * 100
    scraped = post(words, linked=False)
    (firing,) = index_of(rule).evaluate(scraped, at(0))
    message = post_alert(firing, scraped, uuid4(), "x:whale").message
    assert message.startswith("@whale posted (0 engagement): word word")
    assert message.endswith("word…")
    assert len(message) < 240


def test_a_template_fills_post_fields_and_one_needing_a_price_falls_back() -> None:
    scraped = post("$SOL", likes=5)
    good = state("sol", template="{rule}: {symbol} x{value} ({target})")
    needs_price = state("sol", template="{symbol} at {price}")
    firings = index_of(good, needs_price).evaluate(scraped, at(0))
    messages = {f.state.rule_id: post_message(f, scraped) for f in firings}
    assert messages[good.rule_id] == f"{good.rule_id}: $SOL x5 (sol)"
    assert messages[needs_price.rule_id].startswith("@whale mentioned $SOL (5 engagement)")


def test_a_discord_embed_links_to_the_post() -> None:
    scraped = post("$SOL")
    firing = PostFiring(state("SOL"), at(0))
    alert = post_alert(firing, scraped, uuid4(), "x:whale")
    embed = discord_message(Notice(uuid4(), alert))["embeds"][0]
    assert embed["url"] == scraped.url


# -- in the runtime ------------------------------------------------------------------------


@pytest.fixture
def settings(prefix: str, redis_url: str, tmp_path: Path) -> Settings:
    return isolated_settings(prefix, tmp_path, redis_url=redis_url)


@pytest.fixture
def owner(services: Services) -> UUID:
    return services.users.register("trader")


def worker(name: str, contexts: Contexts, settings: Settings) -> Worker:
    return Worker(HANDLERS.get(name), contexts.store, FAST, contexts.handler(name, settings))


async def alerts(store: EventStore) -> list[AlertTriggered]:
    found = []
    for event in await read_all(store, "alerts"):
        assert isinstance(event.payload, AlertTriggered)
        found.append(event.payload)
    return found


async def handled(store: EventStore, streams: set[str]) -> bool:
    """Whether the rules group has read and acknowledged everything of `streams`."""
    for stream in streams:
        for group in await store.redis.xinfo_groups(stream):
            if group["name"] in (GROUP, GROUP.encode()) and (group["lag"] or group["pending"]):
                return False
    return True


async def duplicates(store: EventStore, streams: set[str]) -> int:
    """Entries the rules group was given again and acknowledged without effect."""
    total = 0
    for tag in {store.names.tag_of(stream) for stream in streams}:
        raw = await store.redis.hget(store.names.stats(tag, GROUP), "duplicates")
        total += int(raw or 0)
    return total


async def test_a_mention_fires_once_through_the_runtime_and_is_on_the_record(
    store: EventStore, contexts: Contexts, settings: Settings, services: Services, owner: UUID
) -> None:
    before = post("$SOL before the rule", likes=500)
    early = await store.append("posts", post_event(before))
    rule_id = services.alert_rules.create(owner, spec("$SOL", min_engagement=100))
    paused_id = services.alert_rules.create(owner, spec("SOL"))
    services.alert_rules.pause(paused_id)
    quiet = post("$SOL with few likes", likes=99)
    loud = post("$SOL breaking out", author="whale", likes=1200, quotes=34)
    other = post("$ETH breaking out", likes=5000)
    results = [await store.append("posts", post_event(p)) for p in (quiet, loud, other)]
    streams = {result.stream for result in (early, *results)}
    async with (
        running(worker(GROUP, contexts, settings)),
        running(worker("rule-firings", contexts, settings)),
    ):

        async def recorded() -> bool:
            rule: AlertRule = await asyncio.to_thread(services.alert_rules.load, rule_id)
            return rule.trigger_count == 1

        await wait_until(recorded)
        await wait_until(lambda: handled(store, streams))
        # Redelivery: the group reads every post again; the runtime finds them tracked.
        for stream in streams:
            await store.redis.xgroup_setid(stream, GROUP, "0")

        async def all_redelivered() -> bool:
            return await duplicates(store, streams) == 4

        await wait_until(all_redelivered)
    (alert,) = await alerts(store)  # not `before`: it arrived before the rule was armed
    assert alert.rule_id == rule_id
    assert alert.user_id == owner
    expected = f"@whale mentioned $SOL (1,234 engagement): $SOL breaking out {loud.url}"
    assert alert.message == expected
    assert alert.trigger_event_id == post_event(loud).event_id
    rule: AlertRule = await asyncio.to_thread(services.alert_rules.load, rule_id)
    assert rule.last_triggered_at == alert.triggered_at
    assert rule.trigger_count == 1
    # The alert is in the post's partition, keyed like it.
    [entry] = [recorded async for recorded in store.read_category("alerts")]
    assert store.names.tag_of(entry.stream) == store.names.tag_of(results[1].stream)
    assert entry.event.key == "x:whale"


async def test_a_restarted_process_neither_repeats_a_once_rule_nor_forgets_its_rules(
    store: EventStore, contexts: Contexts, settings: Settings, services: Services, owner: UUID
) -> None:
    once = services.alert_rules.create(owner, spec("BTC", frequency={"kind": "once"}))
    every = services.alert_rules.create(owner, spec(account="whale"))

    def at_least(n: int) -> Callable[[], Awaitable[bool]]:
        async def alerted() -> bool:
            return len(await alerts(store)) >= n

        return alerted

    # No recorder: the firing is on no record but the alert. The worker's shutdown saves
    # a snapshot, which the next one starts from.
    async with running(worker(GROUP, contexts, settings)):
        await store.append("posts", post_event(post("BTC", author="whale")))
        await wait_until(at_least(2))
    async with running(worker(GROUP, contexts, settings)):
        await store.append("posts", post_event(post("BTC again", author="whale")))
        await wait_until(at_least(3))
    fired_rules = [alert.rule_id for alert in await alerts(store)]
    assert sorted(fired_rules) == sorted([once, every, every])


async def test_post_rules_from_a_snapshot_are_those_rebuilt_from_the_log(
    store: EventStore, settings: Settings, services: Services, owner: UUID
) -> None:
    ids = [services.alert_rules.create(owner, spec(f"kw{n}")) for n in range(3)]
    first = RuleBook(store, services.alert_rules, settings.rules_snapshot_s)
    await first.ready()
    await first.save()
    created_at = first.post_rules()[ids[0]].armed_at
    await asyncio.sleep(0.01)
    services.alert_rules.pause(ids[0])
    services.alert_rules.resume(ids[0])  # armed again, later
    services.alert_rules.delete(ids[1])
    from_snapshot, from_scratch = (
        RuleBook(store, services.alert_rules, settings.rules_snapshot_s),
        RuleBook(store, services.alert_rules, settings.rules_snapshot_s),
    )
    await from_snapshot.ready()
    await store.redis.delete(snapshot_key(store.names, SNAPSHOT_TAG))
    await from_scratch.ready()
    try:
        restored, rebuilt = from_snapshot.post_rules(), from_scratch.post_rules()
        assert restored == rebuilt
        assert set(restored) == {ids[0], ids[2]}
        resumed_at = restored[ids[0]].armed_at
        assert created_at is not None
        assert resumed_at is not None
        assert resumed_at > created_at
    finally:
        for book in (first, from_snapshot, from_scratch):
            await book.close()
