"""The agent's tools for real: commands through the aggregates, reads from read models.

Real Redis and SecantusDB, the projector keeping the read models current, the offline
model choosing the calls: a trader's session from a price to a confirmed deletion.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from langchain_core.messages import AnyMessage, HumanMessage

import agent.toolset  # noqa: F401 - registers the tools
from agent.context import AgentContext
from agent.graph import acting_for, build_agent
from agent.offline import OfflineChatModel
from agent.rule_creation import user_rules
from agent.tools import AGENT_TOOLS
from aggregates.alert_rule import AlertRule
from aggregates.services.bundle import Services
from events.catalog import PostScraped, PriceTick, SourceStarted
from events.envelope import Event
from events.store import EventStore
from impressox.configs import knowledge_config
from impressox.connections import connect_mongo
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunker
from knowledge.embeddings import create_embeddings
from knowledge.indexer import KnowledgeItem, index_items
from knowledge.store import KnowledgeStore
from projections.reader import ReadModels
from projections.readmodels.price_coverage import PriceCoverage
from projections.readmodels.prices import Prices, market_key
from projections.registry import PROJECTIONS
from projections.rule_health import RuleHealthReader
from tests.polling import wait_until
from tests.readside import ProjectorThread

READ_MODELS = ["alert_rules", Prices.name, PriceCoverage.name, "users", "posts", "watches"]


@pytest.fixture
async def context(
    settings: Settings, services: Services, mongo_url: str, projector: ProjectorThread
) -> AsyncIterator[AgentContext]:
    mongo = connect_mongo(mongo_url)
    projections = [PROJECTIONS.get(name) for name in READ_MODELS]
    read_models = ReadModels(mongo[settings.mongo_database], projections, cache_s=0.0)
    health = RuleHealthReader(
        read_models, chain_watched=False, stale_after_s=settings.source_stale_after_s
    )
    yield AgentContext(services.users.register("trader"), services, read_models, rule_health=health)
    await mongo.close()


class Session:
    """A conversation's messages and pending action, carried from turn to turn."""

    def __init__(self, context: AgentContext) -> None:
        self.graph = build_agent(lambda node: OfflineChatModel(), AGENT_TOOLS, "test")
        self.context = context
        self.messages: list[AnyMessage] = []
        self.pending: list[dict[str, Any]] | None = None

    async def say(self, text: str) -> str:
        state = await self.graph.ainvoke(
            {"messages": [*self.messages, HumanMessage(text)], "pending": self.pending},
            acting_for(self.context),
        )
        self.messages = state["messages"]
        self.pending = state.get("pending")
        return str(self.messages[-1].content)


async def test_a_session_from_a_price_to_a_confirmed_deletion(
    store: EventStore, context: AgentContext
) -> None:
    session = Session(context)
    started = SourceStarted(source="exchange", venue="binance", symbol="BTC/USDT", run_id=uuid4())
    tick = PriceTick(
        symbol="BTC/USDT", venue="binance", price=101234.5, source_time=datetime.now(UTC)
    )
    for payload in (started, tick):
        await store.append("ticks", Event(key=payload.symbol, payload=payload))

    async def priced() -> bool:
        collection = await context.read_models.collection(Prices.name)
        return await collection.find_one({"_id": market_key("BTC/USDT", "binance")}) is not None

    await wait_until(priced)
    assert "BTC/USDT is 101,234.50 on binance" in await session.say("price of BTC")
    assert await session.say("price of DOGE") == (
        "I have no price for DOGE/USDT: no running source reports it. I track BTC."
    )

    async def covered() -> bool:
        collection = await context.read_models.collection(PriceCoverage.name)
        return await collection.find_one({"_id": market_key("BTC/USDT", "binance")}) is not None

    await wait_until(covered)
    created = await session.say("alert me when BTC goes above 100k")
    assert created == (
        "Done: alert 1, \u201cBTC/USDT above 100,000\u201d. It fires at most once an hour,"
        " on the web."
    )

    async def listed() -> bool:
        return len(await user_rules(context)) == 1

    await wait_until(listed)
    assert "1. BTC/USDT above 100,000 — active" in await session.say("list my alerts")
    assert await session.say("pause alert 1") == "Paused alert 1: BTC/USDT above 100,000."
    (rule_id,) = [rule["_id"] for rule in await user_rules(context)]
    rule: AlertRule = await asyncio.to_thread(context.services.alert_rules.load, rule_id)
    assert rule.status == "paused"
    refused = await session.say("pause alert 9")
    assert refused.startswith("I could not pause that alert:")
    assert "there is no alert 9" in refused
    assert "pause_alert" not in refused

    asked = await session.say("delete alert 1")
    assert asked == "Delete alert 1, 'BTC/USDT above 100,000'? Yes / No"
    assert session.pending is not None
    rule = await asyncio.to_thread(context.services.alert_rules.load, rule_id)
    assert rule.status == "paused"  # asked, not done
    assert await session.say("yes") == "Deleted alert 1: BTC/USDT above 100,000."
    rule = await asyncio.to_thread(context.services.alert_rules.load, rule_id)
    assert rule.status == "deleted"
    assert session.pending is None


async def test_a_level_to_reach_fires_on_the_side_the_price_is_away_from(
    store: EventStore, context: AgentContext
) -> None:
    """ "alert me when btc hits 110k": above it from a price under it, below it from one
    over it, said in the answer; with no price known, the side is asked, not guessed."""
    tick = PriceTick(symbol="BTC/USDT", venue="binance", price=97000, source_time=datetime.now(UTC))
    await store.append("ticks", Event(key=tick.symbol, payload=tick))

    async def priced() -> bool:
        collection = await context.read_models.collection(Prices.name)
        return await collection.find_one({"_id": market_key("BTC/USDT", "binance")}) is not None

    await wait_until(priced)
    session = Session(context)
    up = await session.say("alert me when btc hits 100k")
    assert "\u201cBTC/USDT above 100,000\u201d" in up
    assert "BTC/USDT is at 97,000, so this fires when it rises above 100,000." in up
    down = await AGENT_TOOLS.call(
        context, "create_alert", {"symbol": "BTC/USDT", "condition": "reaches", "threshold": 90000}
    )
    assert down.value["summary"] == "BTC/USDT below 90,000"
    assert down.value["note"] == "BTC/USDT is at 97,000, so this fires when it falls below 90,000"
    far = await AGENT_TOOLS.call(
        context, "create_alert", {"symbol": "BTC/USDT", "condition": "reaches", "threshold": 1.5e6}
    )
    assert far.value["summary"] == "BTC/USDT above 1,500,000"  # a figure, never 1.5e+06
    assert far.value["note"].endswith("rises above 1,500,000")
    unpriced = await session.say("alert me when doge touches 1")
    assert unpriced.startswith("I could not create that alert:")
    assert "I have no price of DOGE/USDT yet" in unpriced
    assert "say above or below it" in unpriced
    assert len(await user_rules(context)) == 3


async def test_the_agent_says_when_a_rule_cannot_fire_yet(context: AgentContext) -> None:
    """Issue 12: no source reports DOGE/USDT, and nothing watches a chain: say so."""
    session = Session(context)
    created = await session.say("alert me when DOGE goes above 1")
    assert created.startswith(
        "Done, but no running price source reports DOGE/USDT yet: it will not fire until one does."
    )
    assert "It is alert 1, \u201cDOGE/USDT above 1\u201d." in created

    async def listed() -> bool:
        return len(await user_rules(context)) == 1

    await wait_until(listed)
    assert await session.say("list my alerts") == (
        "Your alerts:\n1. DOGE/USDT above 1 — active, but no running price source reports"
        " DOGE/USDT yet: it will not fire until one does."
    )
    wallet = "0x52908400098527886E0F7030069857D2E4169EE7"
    watched = await session.say(f"watch wallet {wallet}")
    assert watched == (
        f"Added wallet {wallet} to your watches, but nothing watches a chain here yet: no"
        " activity will be reported until a chain watcher runs."
    )


async def test_research_reads_the_knowledge_base_passages_not_documents(
    settings: Settings, services: Services, context: AgentContext
) -> None:
    store = await KnowledgeStore.connect(knowledge_config(settings))
    embeddings = create_embeddings("hashing", knowledge_config(settings))
    collection = await store.open_active(embeddings)
    items = [
        KnowledgeItem(
            "a", "SOL staking yields rose after the upgrade", {"author": "ana", "symbols": ["SOL"]}
        ),
        KnowledgeItem(
            "b", "ETH gas fees fell to a yearly low", {"author": "bo", "symbols": ["ETH"]}
        ),
    ]
    await index_items(collection, embeddings, Chunker(64, 8), items)
    reader = KnowledgeBase(knowledge_config(settings))
    session = Session(replace(context, knowledge=reader))
    try:
        answer = await session.say("what do you know about $SOL")
    finally:
        await reader.aclose()
        await store.aclose()
    assert answer.startswith("From what I have read about $SOL:")
    assert "ana: SOL staking yields rose" in answer
    assert "gas fees" not in answer  # the symbol filter


async def test_a_post_alert_is_an_alert_rule_on_posts(context: AgentContext) -> None:
    session = Session(context)
    created = await session.say("alert me when @whale mentions $SOL with 500 likes")
    assert created == (
        "Done: alert 1, \u201cposts by @whale mentioning SOL with 500+ engagement\u201d. It"
        " fires every time it holds, at most every 10 minutes, on the web."
    )

    async def projected() -> bool:
        return len(await user_rules(context)) == 1

    await wait_until(projected)
    (rule,) = await user_rules(context)
    assert rule["spec"]["target"] == {"kind": "posts", "keyword": "SOL", "account": "whale"}
    assert rule["spec"]["condition"] == {"type": "mentioned", "min_engagement": 500}
    refused = await AGENT_TOOLS.call(context, "create_post_alert", {"min_engagement": 5})
    assert not refused.ok
    assert "say which keyword, cashtag or account to watch" in refused.content


async def _rules_listed(context: AgentContext, count: int) -> list[dict[str, Any]]:
    async def listed() -> bool:
        return len(await user_rules(context)) == count

    await wait_until(listed)
    return await user_rules(context)


async def test_alerts_change_by_number_by_coin_or_all(context: AgentContext) -> None:
    session = Session(context)
    await session.say("alert me when BTC goes above 100k")
    await session.say("tell me when ETH drops below 2,500")
    await session.say("alert me when eth moves 5% in an hour")
    await _rules_listed(context, 3)

    assert await session.say("pause my eth alerts") == (
        "Paused 2 alerts: 2. ETH/USDT below 2,500; 3. ETH/USDT moves 5% (either) within 1h."
    )

    async def paused() -> bool:
        statuses = [rule["status"] for rule in await user_rules(context)]
        return statuses == ["active", "paused", "paused"]

    await wait_until(paused)
    listed = await session.say("show my paused alerts")
    assert listed.splitlines()[1:] == [
        "2. ETH/USDT below 2,500 — paused",
        "3. ETH/USDT moves 5% (either) within 1h — paused",
    ]
    assert await session.say("resume everything") == (
        "Resumed 2 alerts: 2. ETH/USDT below 2,500; 3. ETH/USDT moves 5% (either) within 1h."
        " Left as they were: 1. BTC/USDT above 100,000 (active)."
    )
    await wait_until(lambda: _statuses_are(context, ["active", "active", "active"]))

    asked = await session.say("delete my eth alerts")
    assert asked == (
        "Delete your ETH/USDT alerts (2. ETH/USDT below 2,500; 3. ETH/USDT moves 5% (either)"
        " within 1h)? Yes / No"
    )
    assert await session.say("nope, keep them") == "OK, I did not do it: nothing changed."
    assert session.pending is None
    await session.say("delete my eth alerts")
    assert (await session.say("yep go ahead")).startswith("Deleted 2 alerts")
    await wait_until(lambda: _statuses_are(context, ["active"]))
    refused = await session.say("pause my sol alerts")
    assert refused == "Nothing to pause: you have no SOL/USDT alerts."


async def _statuses_are(context: AgentContext, statuses: list[str]) -> bool:
    return [rule["status"] for rule in await user_rules(context)] == statuses


async def test_a_rule_is_named_and_its_reply_says_how_often_and_until_when(
    context: AgentContext,
) -> None:
    session = Session(context)
    created = await session.say("just once, alert me on binance when btc goes above 100k by friday")
    (rule,) = await _rules_listed(context, 1)
    spec = rule["spec"]
    assert spec["name"] == "BTC/USDT on binance above 100,000"
    assert spec["target"] == {"kind": "symbol", "symbol": "BTC/USDT", "venue": "binance"}
    assert spec["frequency"] == {"kind": "once"}
    expires = datetime.fromisoformat(str(spec["expires_at"]))
    assert expires.weekday() == 4  # Friday
    assert (
        "alert 1, \u201cBTC/USDT on binance above 100,000\u201d. It fires once, on the"
        " web, then it is done. It ends at "
    ) in created
    await session.say("ping me whenever eth volume spikes to 3x its average, at most once a day")
    (_, volume) = await _rules_listed(context, 2)
    assert volume["spec"]["condition"] == {
        "type": "volume_spike",
        "multiple": 3.0,
        "window_s": 3600,
    }
    assert volume["spec"]["frequency"] == {"kind": "at_most_once_per", "interval_s": 86400}


async def test_trending_says_how_far_back_its_posts_go(
    store: EventStore, context: AgentContext
) -> None:
    now = datetime.now(UTC)
    for number, hours in enumerate((1, 2, 30)):
        post = PostScraped(
            source="import",
            post_id=f"p{number}",
            author="ana",
            text="$SOL looks strong",
            created_at=now - timedelta(hours=hours),
            cashtags=("$SOL",),
        )
        await store.append("posts", Event(key=post.partition_key(), payload=post))

    async def projected() -> bool:
        collection = await context.read_models.collection("posts")
        return await collection.count_documents({}) == 3

    await wait_until(projected)
    week = await AGENT_TOOLS.call(context, "trending_symbols", {"window_s": 7 * 86400})
    assert week.value["symbols"] == [{"symbol": "SOL", "mentions": 3}]
    assert 29 * 3600 < week.value["covered_s"] < 31 * 3600
    said = await Session(context).say("what's trending this week")
    assert said.startswith("Most mentioned in the last week (the posts I have go back 30 hours)")


async def test_posts_are_found_by_a_keyword_as_whole_words_in_any_case(
    store: EventStore, context: AgentContext
) -> None:
    now = datetime.now(UTC)
    texts = {
        "p0": "Airdrop season is here",  # found
        "p1": "the JUP airdrop, claimed",  # found
        "p2": "more airdrops next week",  # another word
        "p3": "nothing to see",
        "p4": "an old airdrop",  # found only without a window
    }
    for number, text in texts.items():
        hours = 50 if number == "p4" else 1
        post = PostScraped(source="import", post_id=number, author="ana", text=text,
                           created_at=now - timedelta(hours=hours))  # fmt: skip
        await store.append("posts", Event(key=post.partition_key(), payload=post))

    async def projected() -> bool:
        collection = await context.read_models.collection("posts")
        return await collection.count_documents({}) == len(texts)

    await wait_until(projected)
    today = await AGENT_TOOLS.call(context, "search_posts", {"query": "airdrop", "window_s": 86400})
    assert sorted(post["text"] for post in today.value["posts"]) == sorted(
        [texts["p0"], texts["p1"]]
    )
    ever = await AGENT_TOOLS.call(context, "search_posts", {"query": "AIRDROP"})
    assert len(ever.value["posts"]) == 3
    regex = await AGENT_TOOLS.call(context, "search_posts", {"query": "(a+)+$"})
    assert regex.value["posts"] == []  # the words of the query, never a pattern of the user's
    said = await Session(context).say("any mentions of airdrop today?")
    assert said.startswith("What people are saying about airdrop in the last day:")
    assert "Airdrop season is here" in said
    assert "airdrops next week" not in said


async def test_a_symbols_posts_are_narrowed_to_the_topic_asked(
    store: EventStore, context: AgentContext
) -> None:
    """ "anything on twitter about the hyperliquid unlock": the HYPE posts that say
    "unlock"; a topic none says leaves all of them, and the result says so."""
    now = datetime.now(UTC)
    texts = {"h0": "$HYPE unlock next week", "h1": "$HYPE to the moon", "h2": "unlock season"}
    for number, text in texts.items():
        tags = () if number == "h2" else ("$HYPE",)
        post = PostScraped(source="import", post_id=number, author="ana", text=text,
                           created_at=now - timedelta(hours=1), cashtags=tags)  # fmt: skip
        await store.append("posts", Event(key=post.partition_key(), payload=post))

    async def projected() -> bool:
        collection = await context.read_models.collection("posts")
        return await collection.count_documents({}) == len(texts)

    await wait_until(projected)
    asked = {"query": "unlock", "symbol": "HYPE/USDT", "window_s": 604800}
    unlock = await AGENT_TOOLS.call(context, "search_posts", asked)
    assert [post["text"] for post in unlock.value["posts"]] == [texts["h0"]]
    assert unlock.value["query"] == "HYPE unlock"
    named = await AGENT_TOOLS.call(context, "search_posts", asked | {"query": "Hyperliquid"})
    assert len(named.value["posts"]) == 2
    assert named.value["query"] == "HYPE"
    said = await Session(context).say("anything on twitter about the hyperliquid unlock this week")
    assert said.startswith("What people are saying about HYPE unlock in the last week:")


async def test_alerts_made_back_to_back_each_say_their_own_number(context: AgentContext) -> None:
    """Two in one message, then one more: each reply waits until the read model shows
    its rule, so the next one counts it."""
    both = await Session(context).say("btc above 100k and below 90k")
    assert "It is alert 1, \u201cBTC/USDT above 100,000\u201d" in both
    assert "It is alert 2, \u201cBTC/USDT below 90,000\u201d" in both
    third = await Session(context).say("eth above 5k")
    assert "It is alert 3, \u201cETH/USDT above 5,000\u201d" in third


async def test_what_is_watched_is_listed_through_the_graph(context: AgentContext) -> None:
    session = Session(context)
    assert (await session.say("what am I watching?")).startswith("You are not watching anything")
    await session.say("follow @lookonchain")

    async def listed() -> str | None:
        said = await Session(context).say("what am I watching?")
        return said if said.startswith("You are watching:") else None

    assert await wait_until(listed) == "You are watching:\n• Accounts: @lookonchain on x"
