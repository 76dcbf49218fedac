"""The agent's tools, acting only through the system's own commands and read models.

Creating a rule goes through the AlertRule aggregate (so it is an event with the
conversation's correlation id, like any other command); prices, rules and posts are
read from their read models. Rules are named to the user by their number in their list
("pause alert 3"), oldest first, as `list_alerts` shows them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from aggregates.watch import SocialPlatform
from events.catalog import Symbol
from handlers.agent.tools import agent_tool
from handlers.rag.embeddings import Embeddings
from handlers.rag.search import SearchFilters, search
from handlers.rag.store import KnowledgeStore
from impressox.services import Services
from projections.reader import ReadModels
from projections.readmodels.alert_rules import AlertRules
from projections.readmodels.posts import Posts, ticker
from projections.readmodels.prices import Prices

KNOWLEDGE_HITS = 4
"""Passages a knowledge search returns: enough to answer, never a whole document."""
TRENDING_WINDOW = timedelta(hours=24)
TRENDING_POSTS = 1000
"""The newest posts of the window that trending counts (a bound on one call's work)."""


@dataclass(frozen=True)
class Knowledge:
    """The knowledge base the research tools search (see `handlers.rag`)."""

    store: KnowledgeStore
    embeddings: Embeddings


@dataclass(frozen=True)
class AgentContext:
    """Who the agent acts for, and through what."""

    user_id: UUID
    services: Services
    read_models: ReadModels
    knowledge: Knowledge | None = None


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


@agent_tool("market", description="The latest price of a symbol.")
async def get_price(context: AgentContext, arguments: SymbolArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Prices.name)
    found = await collection.find_one({"_id": arguments.symbol})
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


@agent_tool("alerts", description="Create a price alert for the user (delivered on the web).")
async def create_alert(context: AgentContext, arguments: CreateAlertArgs) -> dict[str, Any]:
    spec = spec_of(arguments)
    existing = await user_rules(context)
    rule_id = await asyncio.to_thread(context.services.alert_rules.create, context.user_id, spec)
    return {"rule_id": str(rule_id), "number": len(existing) + 1, "summary": describe(spec)}


@agent_tool("alerts", description="The user's alerts, numbered oldest first.")
async def list_alerts(context: AgentContext, arguments: NoArgs) -> dict[str, Any]:
    rules = await user_rules(context)
    return {
        "alerts": [
            {"number": n, "summary": describe(rule["spec"]), "status": rule["status"]}
            for n, rule in enumerate(rules, 1)
        ]
    }


async def _change(context: AgentContext, number: int, command: str) -> dict[str, Any]:
    rule = await _numbered(context, number)
    service = context.services.alert_rules
    await asyncio.to_thread(getattr(service, command), UUID(rule["_id"]))
    return {"number": number, "summary": describe(rule["spec"])}


@agent_tool("alerts", description="Pause one of the user's alerts, by its number.")
async def pause_alert(context: AgentContext, arguments: NumberArgs) -> dict[str, Any]:
    return await _change(context, arguments.number, "pause")


@agent_tool("alerts", description="Resume a paused alert, by its number.")
async def resume_alert(context: AgentContext, arguments: NumberArgs) -> dict[str, Any]:
    return await _change(context, arguments.number, "resume")


@agent_tool("alerts", description="Delete one of the user's alerts, by its number.", confirm=True)
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
    hits = await search(
        context.knowledge.store,
        context.knowledge.embeddings,
        arguments.query,
        k=KNOWLEDGE_HITS,
        filters=SearchFilters(symbol=arguments.symbol),
    )
    return {
        "query": arguments.query,
        "passages": [
            {"author": h.metadata.get("author", ""), "text": h.text, "score": round(h.score, 3)}
            for h in hits
        ],
    }


# -- account --------------------------------------------------------------------------------


@agent_tool("account", description="Watch a wallet's on-chain activity.")
async def watch_wallet(context: AgentContext, arguments: WalletArgs) -> dict[str, Any]:
    watches = context.services.watches
    address = await asyncio.to_thread(watches.watch_wallet, context.user_id, arguments.address)
    return {"watching": f"wallet {address}"}


@agent_tool("account", description="Follow a social account's posts.")
async def follow_account(context: AgentContext, arguments: AccountArgs) -> dict[str, Any]:
    handle = arguments.handle.lstrip("@")
    watches = context.services.watches
    await asyncio.to_thread(watches.follow_account, context.user_id, arguments.platform, handle)
    return {"watching": f"@{handle} on {arguments.platform}"}
