"""The agent's tools, acting only through the system's own commands and read models.

Creating a rule goes through the AlertRule aggregate (so it is an event with the
conversation's correlation id, like any other command); prices, rules and posts are
read from their read models. Rules are named to the user by their number in their list
("pause alert 3"), oldest first, as `list_alerts` shows them.

A tool never claims more than happened: a created rule comes with its health (whether
it can fire now, and if not why: `projections.rule_health`), and a wallet watched while
no chain watcher runs says that nothing will be reported yet.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, Field

from aggregates.memory import MAX_FACT_CHARS, Fact
from aggregates.watch import SocialPlatform
from events.catalog import Symbol
from handlers.agent.memory import recall_facts
from handlers.agent.tools import agent_tool
from handlers.rag.reader import KnowledgeReader
from handlers.rag.search import SearchFilters
from impressox.services import Services
from projections.reader import ReadModels
from projections.readmodels.alert_rules import AlertRules
from projections.readmodels.posts import Posts, ticker
from projections.readmodels.prices import Prices, latest
from projections.rule_health import RuleHealth, RuleHealthReader, RuleView

KNOWLEDGE_HITS = 4
"""Passages a knowledge search returns: enough to answer, never a whole document."""
TRENDING_WINDOW = timedelta(hours=24)
RULE_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/agent-rule")
"""A rule the agent creates has the id uuid5(this, call id): a call run twice makes one."""
TRENDING_POSTS = 1000
"""The newest posts of the window that trending counts (a bound on one call's work)."""


@dataclass(frozen=True)
class AgentContext:
    """Who the agent acts for, and through what; `conversation_id` and `message_id`
    name the message being answered (the source of a fact the user states in it)."""

    user_id: UUID
    services: Services
    read_models: ReadModels
    knowledge: KnowledgeReader | None = None
    """The knowledge base the research tools search, and the memory index recall reads."""
    conversation_id: UUID | None = None
    message_id: str | None = None
    call_id: str | None = None
    """The call being run, for a tool whose effect is keyed by it (see `tools.Effect`)."""
    rule_health: RuleHealthReader = field(kw_only=True)
    """Whether rules can fire, and whether a chain watcher runs."""


class SymbolArgs(BaseModel):
    symbol: Symbol = Field(description="BASE/QUOTE in capitals, e.g. ETH/USDT")


class CreateAlertArgs(BaseModel):
    symbol: Symbol
    condition: Literal[
        "above", "below", "crosses_up", "crosses_down", "percent_change", "absolute_move"
    ]
    threshold: float | None = Field(
        default=None, gt=0, description="Price, for above/below/crosses"
    )
    percent: float | None = Field(default=None, gt=0, description="For percent_change")
    amount: float | None = Field(default=None, gt=0, description="For absolute_move")
    window_s: int = Field(default=3600, gt=0, description="For percent_change/absolute_move")
    direction: Literal["up", "down", "either"] = "either"
    once: bool = Field(default=False, description="Fire once, then stop (else hourly at most)")


class NoArgs(BaseModel):
    pass


class NumberArgs(BaseModel):
    number: int = Field(ge=1, description="The alert's number in the user's list")


class SearchArgs(BaseModel):
    query: str = Field(min_length=1, max_length=200)
    symbol: Symbol | None = None


class WalletArgs(BaseModel):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class AccountArgs(BaseModel):
    platform: SocialPlatform = "x"
    handle: str = Field(pattern=r"^@?[A-Za-z0-9_]{1,32}$")


# -- market ---------------------------------------------------------------------------------


@agent_tool("market", description="The latest price of a symbol, and the venue it is from.")
async def get_price(context: AgentContext, arguments: SymbolArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Prices.name)
    found = await latest(collection, arguments.symbol)
    if found is None:
        raise LookupError(f"no price for {arguments.symbol} yet")
    return {
        "symbol": found["symbol"],
        "price": found["price"],
        "venue": found["venue"],
        "simulated": found.get("simulated", False),
        "at": found["source_time"],
    }


# -- alerts ---------------------------------------------------------------------------------


def spec_of(arguments: CreateAlertArgs) -> dict[str, Any]:
    """The RuleSpec a request describes; the aggregate validates it."""
    condition: dict[str, Any] = {"type": arguments.condition}
    if arguments.condition in ("above", "below", "crosses_up", "crosses_down"):
        condition["threshold"] = arguments.threshold
    elif arguments.condition == "percent_change":
        condition |= {"percent": arguments.percent, "window_s": arguments.window_s}
        condition["direction"] = arguments.direction
    else:
        condition |= {"amount": arguments.amount, "window_s": arguments.window_s}
        condition["direction"] = arguments.direction
    frequency = (
        {"kind": "once"} if arguments.once else {"kind": "at_most_once_per", "interval_s": 3600}
    )
    return {
        "target": {"kind": "symbol", "symbol": arguments.symbol},
        "condition": condition,
        "frequency": frequency,
        "channels": ["web"],
    }


def describe(spec: dict[str, Any]) -> str:
    """A rule in words: "BTC/USDT above 100,000", "ETH/USDT moves 5% within 1h"."""
    target = spec["target"]
    subject = target.get("symbol") or target.get("keyword") or target.get("account") or "?"
    condition = spec["condition"]
    kind = condition["type"]
    if kind == "mentioned":
        return _posts_described(target, condition["min_engagement"])
    if "threshold" in condition:
        words = kind.replace("crosses_", "crosses ").replace("_", " ")
        return f"{subject} {words} {condition['threshold']:,g}"
    window = _duration(condition.get("window_s", 0))
    if kind == "percent_change":
        return (
            f"{subject} moves {condition['percent']:g}% ({condition['direction']}) within {window}"
        )
    if kind == "absolute_move":
        return (
            f"{subject} moves {condition['amount']:,g} ({condition['direction']}) within {window}"
        )
    return f"{subject}: {kind}"


def _posts_described(target: dict[str, Any], min_engagement: int) -> str:
    """ "posts by @whale mentioning SOL with 500+ engagement"."""
    words = "posts"
    if target.get("account"):
        words += f" by @{target['account']}"
    if target.get("keyword"):
        words += f" mentioning {target['keyword']}"
    return words + (f" with {min_engagement:,}+ engagement" if min_engagement else "")


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


async def user_rules(context: AgentContext) -> list[dict[str, Any]]:
    """The user's rules that still exist, oldest first: what the numbers refer to."""
    collection = await context.read_models.collection(AlertRules.name)
    rules = await collection.find(
        {"owner_id": str(context.user_id), "status": {"$ne": "deleted"}}
    ).to_list()
    return sorted(rules, key=lambda rule: (rule["created_at"], rule["_id"]))


async def _numbered(context: AgentContext, number: int) -> dict[str, Any]:
    rules = await user_rules(context)
    if number > len(rules):
        raise LookupError(f"you have {len(rules)} alerts; there is no alert {number}")
    return rules[number - 1]


@agent_tool(
    "alerts",
    description="Create a price alert for the user (delivered on the web).",
    effect="repeatable",
)
async def create_alert(context: AgentContext, arguments: CreateAlertArgs) -> dict[str, Any]:
    return await _create(context, spec_of(arguments))


async def _create(context: AgentContext, spec: dict[str, Any]) -> dict[str, Any]:
    """Create the rule under the id derived from the call (see `tools.Effect`); say its
    health, so that the answer never promises an alert that cannot come."""
    existing = [rule["_id"] for rule in await user_rules(context)]
    wanted = uuid5(RULE_NAMESPACE, context.call_id) if context.call_id else None
    users, rules = context.services.users, context.services.alert_rules
    channels = await asyncio.to_thread(users.require_channels, context.user_id, spec["channels"])
    rule_id = await asyncio.to_thread(rules.create, context.user_id, spec, wanted)
    number = existing.index(str(rule_id)) + 1 if str(rule_id) in existing else len(existing) + 1
    owner = str(context.user_id)
    [health] = await context.rule_health.health(
        [RuleView(owner, spec, "active")], channels={owner: channels}
    )
    return {
        "rule_id": str(rule_id),
        "number": number,
        "summary": describe(spec),
        "health": _health(health),
    }


def _health(health: RuleHealth) -> dict[str, str]:
    return {"state": health.health, "detail": health.detail}


class PostAlertArgs(BaseModel):
    keyword: str | None = Field(
        default=None, min_length=1, max_length=64, description="A cashtag or word, e.g. SOL"
    )
    account: str | None = Field(
        default=None, pattern=r"^@?[A-Za-z0-9_]{1,32}$", description="Only posts by this account"
    )
    min_engagement: int = Field(
        default=0, ge=0, description="Likes + reposts + replies + quotes a post needs"
    )


@agent_tool(
    "alerts",
    description="Alert the user when posts mention a keyword or cashtag, or when an"
    " account posts, with at least some engagement (delivered on the web).",
    effect="repeatable",
)
async def create_post_alert(context: AgentContext, arguments: PostAlertArgs) -> dict[str, Any]:
    if arguments.keyword is None and arguments.account is None:
        raise ValueError("say which keyword, cashtag or account to watch")
    target: dict[str, Any] = {"kind": "posts"}
    if arguments.keyword is not None:
        target["keyword"] = arguments.keyword.lstrip("$").upper()
    if arguments.account is not None:
        target["account"] = arguments.account.lstrip("@")
    spec = {
        "target": target,
        "condition": {"type": "mentioned", "min_engagement": arguments.min_engagement},
        "frequency": {"kind": "every_time", "cooldown_s": 600},
        "channels": ["web"],
    }
    return await _create(context, spec)


@agent_tool("alerts", description="The user's alerts, numbered oldest first, with their health.")
async def list_alerts(context: AgentContext, arguments: NoArgs) -> dict[str, Any]:
    rules = await user_rules(context)
    views = [RuleView(rule["owner_id"], rule["spec"], rule["status"]) for rule in rules]
    healths = await context.rule_health.health(views)
    return {
        "alerts": [
            {
                "number": n,
                "summary": describe(rule["spec"]),
                "status": rule["status"],
                "health": _health(health),
            }
            for n, (rule, health) in enumerate(zip(rules, healths, strict=True), 1)
        ]
    }


async def _change(context: AgentContext, number: int, command: str) -> dict[str, Any]:
    rule = await _numbered(context, number)
    service = context.services.alert_rules
    await asyncio.to_thread(getattr(service, command), UUID(rule["_id"]))
    return {"number": number, "summary": describe(rule["spec"])}


@agent_tool(
    "alerts", description="Pause one of the user's alerts, by its number.", effect="repeatable"
)
async def pause_alert(context: AgentContext, arguments: NumberArgs) -> dict[str, Any]:
    return await _change(context, arguments.number, "pause")


@agent_tool("alerts", description="Resume a paused alert, by its number.", effect="repeatable")
async def resume_alert(context: AgentContext, arguments: NumberArgs) -> dict[str, Any]:
    return await _change(context, arguments.number, "resume")


@agent_tool(
    "alerts",
    description="Delete one of the user's alerts, by its number.",
    confirm=True,
    effect="once",
)
async def delete_alert(context: AgentContext, arguments: NumberArgs) -> dict[str, Any]:
    return await _change(context, arguments.number, "delete")


# -- research -------------------------------------------------------------------------------


@agent_tool("research", description="Recent posts about a symbol or keyword, most engaging first.")
async def search_posts(context: AgentContext, arguments: SearchArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Posts.name)
    wanted = ticker(arguments.symbol.split("/")[0]) if arguments.symbol else arguments.query.upper()
    posts = await collection.find({"tickers": wanted}).sort("created_at", -1).limit(50).to_list()
    best = sorted(posts, key=lambda post: post["engagement_total"], reverse=True)[:5]
    return {
        "query": arguments.query,
        "posts": [
            {"author": p["author"], "text": p["text"], "engagement": p["engagement_total"]}
            for p in best
        ],
    }


@agent_tool("research", description="The symbols most mentioned in posts of the last day.")
async def trending_symbols(context: AgentContext, arguments: NoArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Posts.name)
    since = datetime.now(UTC) - TRENDING_WINDOW
    posts = await (
        collection.find({"created_at": {"$gte": since}}, {"tickers": 1})
        .sort("created_at", -1)
        .limit(TRENDING_POSTS)
        .to_list()
    )
    counts = Counter(tag for post in posts for tag in post.get("tickers", []))
    return {"symbols": [{"symbol": s, "mentions": n} for s, n in counts.most_common(5)]}


class KnowledgeArgs(BaseModel):
    query: str = Field(min_length=1, max_length=500)
    symbol: str | None = Field(default=None, max_length=25, description="Only about this")


@agent_tool(
    "research",
    description="Search what the system has read (posts, documents) by meaning: the best"
    " few passages, never whole documents.",
)
async def search_knowledge(context: AgentContext, arguments: KnowledgeArgs) -> dict[str, Any]:
    if context.knowledge is None:
        raise LookupError("the knowledge base is not available here")
    hits = await context.knowledge.search(
        arguments.query,
        k=KNOWLEDGE_HITS,
        filters=SearchFilters(symbol=arguments.symbol, viewer=str(context.user_id)),
    )
    return {
        "query": arguments.query,
        "passages": [
            {"author": h.metadata.get("author", ""), "text": h.text, "score": round(h.score, 3)}
            for h in hits
        ],
    }


# -- account --------------------------------------------------------------------------------


@agent_tool(
    "account",
    description="Add a wallet to the user's watches (its activity is reported while a chain"
    " watcher runs).",
    effect="repeatable",
)
async def watch_wallet(context: AgentContext, arguments: WalletArgs) -> dict[str, Any]:
    watches = context.services.watches
    address = await asyncio.to_thread(watches.watch_wallet, context.user_id, arguments.address)
    return {"watching": f"wallet {address}", "chain_watched": context.rule_health.chain_watched}


@agent_tool("account", description="Follow a social account's posts.", effect="repeatable")
async def follow_account(context: AgentContext, arguments: AccountArgs) -> dict[str, Any]:
    handle = arguments.handle.lstrip("@")
    watches = context.services.watches
    await asyncio.to_thread(watches.follow_account, context.user_id, arguments.platform, handle)
    return {"watching": f"@{handle} on {arguments.platform}"}


# -- memory (account) -----------------------------------------------------------------------


class FactArgs(BaseModel):
    fact: str = Field(
        min_length=1,
        max_length=MAX_FACT_CHARS,
        description="What the user stated about themselves, in their words: 'I hold 2 ETH'",
    )


class RecallArgs(BaseModel):
    query: str | None = Field(
        default=None, max_length=500, description="Only what bears on this (else everything)"
    )


class ForgetArgs(BaseModel):
    fact: str = Field(
        min_length=1,
        max_length=MAX_FACT_CHARS,
        description="The fact's id, or what it is about: 'I hold ETH', 'risk tolerance'",
    )


def _fact(fact: Fact) -> dict[str, Any]:
    return {"id": fact.fact_id, "text": fact.text, "subject": fact.subject, **fact.fields}


@agent_tool(
    "account",
    description="Remember a fact the user states about themselves (holdings, the venues"
    " they trade on, preferences) for later conversations; a newer fact about the same"
    " thing replaces the older one.",
    effect="repeatable",
)
async def remember(context: AgentContext, arguments: FactArgs) -> dict[str, Any]:
    remembered = await asyncio.to_thread(
        context.services.memory.remember,
        context.user_id,
        arguments.fact,
        conversation_id=context.conversation_id,
        message_id=context.message_id,
    )
    result = {"remembered": _fact(remembered.fact)}
    if remembered.replaced is not None:
        result["replaced"] = _fact(remembered.replaced)
    return result


@agent_tool(
    "account",
    description="What the user has told you about themselves: everything, or what bears"
    " on a query.",
)
async def recall_memory(context: AgentContext, arguments: RecallArgs) -> dict[str, Any]:
    if arguments.query:
        facts = await recall_facts(context, arguments.query)
    else:
        facts = await asyncio.to_thread(context.services.memory.facts, context.user_id)
    return {"query": arguments.query, "facts": [_fact(fact) for fact in facts]}


@agent_tool(
    "account",
    description="Forget what the user told you, by the fact's id or topic.",
    effect="repeatable",
)
async def forget(context: AgentContext, arguments: ForgetArgs) -> dict[str, Any]:
    memory = context.services.memory
    forgotten = await asyncio.to_thread(memory.forget_about, context.user_id, arguments.fact)
    return {"forgotten": [_fact(fact) for fact in forgotten]}
