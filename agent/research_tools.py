"""The research tools: what people say in posts, what is trending, and the knowledge
base (passages found by meaning, never whole documents)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from agent.context import AgentContext
from agent.tools import agent_tool
from events.catalog import Symbol
from knowledge.search import SearchFilters
from projections.readmodels.posts import Posts, ticker

KNOWLEDGE_HITS = 4
"""Passages a knowledge search returns: enough to answer, never a whole document."""
TRENDING_POSTS = 1000
"""The newest posts of the window that trending counts (a bound on one call's work)."""

MAX_WINDOW_S = 90 * 86400


class SearchArgs(BaseModel):
    query: str = Field(min_length=1, max_length=200)
    symbol: Symbol | None = None
    window_s: int | None = Field(
        default=None, gt=0, le=MAX_WINDOW_S, description="Only posts of this many last seconds"
    )


class TrendingArgs(BaseModel):
    window_s: int = Field(
        default=86400, gt=0, le=MAX_WINDOW_S, description="Posts of this many last seconds"
    )


_WORD = re.compile(r"\w+")


def _topic(arguments: SearchArgs) -> list[str]:
    """The query's words besides the symbol's ticker: the topic of its posts asked for
    ("unlock" of HYPE)."""
    if not arguments.symbol:
        return []
    base = arguments.symbol.split("/")[0].lower()
    return [word for word in _WORD.findall(arguments.query.lower()) if word != base]


def _mentioning(arguments: SearchArgs, topic: list[str]) -> dict[str, Any]:
    """Posts about the symbol (its ticker among their cashtags) that say the `topic`, if
    any; else about the query: a cashtag of it, or its words in a row, as whole words of
    the text, in any case, as a post alert matches its keyword ("airdrop" finds "Airdrop
    season", not "airdrops")."""
    if arguments.symbol:
        about = {"tickers": ticker(arguments.symbol.split("/")[0])}
        return about | {"text": _in_a_row(topic)} if topic else about
    tagged = {"tickers": ticker(arguments.query.strip())}
    words = _WORD.findall(arguments.query.lower())
    if not words:
        return tagged
    return {"$or": [tagged, {"text": _in_a_row(words)}]}


def _in_a_row(words: list[str]) -> dict[str, str]:
    """A text filter: the words in a row, as whole words, in any case."""
    pattern = r"\b" + r"\W+".join(re.escape(word) for word in words) + r"\b"
    return {"$regex": pattern, "$options": "i"}


@agent_tool(
    "research",
    description="Recent posts about a symbol or keyword, most engaging first; within a"
    " window if asked ('this week'). With a symbol, the query is the topic of its posts"
    " ('unlock'), or the ticker for all of them.",
)
async def search_posts(context: AgentContext, arguments: SearchArgs) -> dict[str, Any]:
    """The most engaging of the newest posts found. A topic no post of the symbol says
    (or a name the model put for the ticker, "Solana") leaves the symbol's posts, and the
    result says it searched the symbol."""
    collection = await context.read_models.collection(Posts.name)
    since: dict[str, Any] = {}
    if arguments.window_s is not None:
        since["created_at"] = {"$gte": datetime.now(UTC) - timedelta(seconds=arguments.window_s)}

    async def newest(topic: list[str]) -> list[dict[str, Any]]:
        found = collection.find(_mentioning(arguments, topic) | since)
        return await found.sort("created_at", -1).limit(50).to_list()

    topic = _topic(arguments)
    posts = await newest(topic)
    subject = arguments.query
    if arguments.symbol and topic:
        base = arguments.symbol.split("/")[0]
        subject = f"{base} {' '.join(topic)}"
        if not posts:
            posts, subject = await newest([]), base
    best = sorted(posts, key=lambda post: post["engagement_total"], reverse=True)[:5]
    return {
        "query": subject,
        "window_s": arguments.window_s,
        "posts": [
            {"author": p["author"], "text": p["text"], "engagement": p["engagement_total"]}
            for p in best
        ],
    }


@agent_tool(
    "research",
    description="The symbols most mentioned in posts of a window (the last day unless"
    " asked), and how far back the posts it has go.",
)
async def trending_symbols(context: AgentContext, arguments: TrendingArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Posts.name)
    now = datetime.now(UTC)
    posts = await (
        collection.find(
            {"created_at": {"$gte": now - timedelta(seconds=arguments.window_s)}},
            {"tickers": 1, "created_at": 1},
        )
        .sort("created_at", -1)
        .limit(TRENDING_POSTS)
        .to_list()
    )
    counts = Counter(tag for post in posts for tag in post.get("tickers", []))
    oldest = min((_aware(post["created_at"]) for post in posts), default=None)
    return {
        "window_s": arguments.window_s,
        "covered_s": int((now - oldest).total_seconds()) if oldest is not None else 0,
        "symbols": [{"symbol": s, "mentions": n} for s, n in counts.most_common(5)],
    }


def _aware(moment: datetime) -> datetime:
    """MongoDB gives back naive UTC datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class KnowledgeArgs(BaseModel):
    query: str = Field(min_length=1, max_length=500)
    symbol: str | None = Field(default=None, max_length=25, description="Only about this")
    window_s: int | None = Field(
        default=None,
        gt=0,
        le=MAX_WINDOW_S,
        description="Only what was read in this many last seconds",
    )


@agent_tool(
    "research",
    description="Search what the system has read (posts, documents) by meaning: the best"
    " few passages, never whole documents.",
)
async def search_knowledge(context: AgentContext, arguments: KnowledgeArgs) -> dict[str, Any]:
    if context.knowledge is None:
        raise LookupError("the knowledge base is not available here")
    since = None
    if arguments.window_s is not None:
        since = datetime.now(UTC) - timedelta(seconds=arguments.window_s)
    hits = await context.knowledge.search(
        arguments.query,
        k=KNOWLEDGE_HITS,
        filters=SearchFilters(symbol=arguments.symbol, viewer=str(context.user_id), since=since),
    )
    return {
        "query": arguments.query,
        "window_s": arguments.window_s,
        "passages": [
            {"author": h.metadata.get("author", ""), "text": h.text, "score": round(h.score, 3)}
            for h in hits
        ],
    }
