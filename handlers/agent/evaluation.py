"""The evaluation set: messages a trader sends, and the tool call each should become.

`evaluate(model)` runs the set through the real graph with every tool replaced by a
recorder of the same name, arguments and node, so what is measured is the decision
(which tool, which arguments), not what the tools do. The tests run it on the offline
model (target 95%), `bench.agent` reports it, and it runs unchanged on a real provider's
model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage

from handlers.agent.graph import acting_for, build_agent
from handlers.agent.tools import AGENT_TOOLS, AgentTool, ToolRegistry

BTC, ETH, SOL = "BTC/USDT", "ETH/USDT", "SOL/USDT"
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def above(symbol: str, threshold: float) -> dict[str, Any]:
    return {"symbol": symbol, "condition": "above", "threshold": threshold}


def below(symbol: str, threshold: float) -> dict[str, Any]:
    return {"symbol": symbol, "condition": "below", "threshold": threshold}


def move(symbol: str, percent: float, window_s: int, direction: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "condition": "percent_change",
        "percent": percent,
        "window_s": window_s,
        "direction": direction,
    }


EVALUATION: list[tuple[str, str, dict[str, Any]]] = [
    ("price of ETH", "get_price", {"symbol": ETH}),
    ("What's the price of BTC?", "get_price", {"symbol": BTC}),
    ("how much is sol", "get_price", {"symbol": SOL}),
    ("eth price", "get_price", {"symbol": ETH}),
    ("What is BTC at?", "get_price", {"symbol": BTC}),
    ("what's SOL trading at", "get_price", {"symbol": SOL}),
    ("quote for $ETH", "get_price", {"symbol": ETH}),
    ("price of ARB/USDT", "get_price", {"symbol": "ARB/USDT"}),
    ("alert me when BTC goes above 100000", "create_alert", above(BTC, 100000)),
    ("Alert me when BTC goes above 100k", "create_alert", above(BTC, 100000)),
    ("tell me when ETH drops below 2,500", "create_alert", below(ETH, 2500)),
    ("notify me when SOL is above 250.5", "create_alert", above(SOL, 250.5)),
    ("ping me when eth goes under 3000", "create_alert", below(ETH, 3000)),
    ("warn me when BTC falls below 90k", "create_alert", below(BTC, 90000)),
    (
        "notify me when SOL crosses above 200",
        "create_alert",
        {"symbol": SOL, "condition": "crosses_up", "threshold": 200},
    ),
    (
        "alert me when ETH crosses below 2800",
        "create_alert",
        {"symbol": ETH, "condition": "crosses_down", "threshold": 2800},
    ),
    ("alert me when BTC moves 5% in an hour", "create_alert", move(BTC, 5, 3600, "either")),
    ("warn me when eth drops 3% within 15 minutes", "create_alert", move(ETH, 3, 900, "down")),
    ("alert me when SOL pumps 10% in 24h", "create_alert", move(SOL, 10, 86400, "up")),
    ("tell me when btc moves 2%", "create_alert", move(BTC, 2, 3600, "either")),
    ("alert me when ETH rises 4% in a day", "create_alert", move(ETH, 4, 86400, "up")),
    ("alert me when people mention SOL", "create_post_alert", {"keyword": "SOL"}),
    (
        "tell me when anyone posts about $ETH with at least 500 likes",
        "create_post_alert",
        {"keyword": "ETH", "min_engagement": 500},
    ),
    ("notify me when @whale_alert posts", "create_post_alert", {"account": "whale_alert"}),
    (
        "alert me when @cryptoanalyst mentions BTC with 1k engagement",
        "create_post_alert",
        {"account": "cryptoanalyst", "keyword": "BTC", "min_engagement": 1000},
    ),
    ("list my alerts", "list_alerts", {}),
    ("show my alerts", "list_alerts", {}),
    ("what are my alerts?", "list_alerts", {}),
    ("my rules", "list_alerts", {}),
    ("Show me all my alert rules", "list_alerts", {}),
    ("pause alert 3", "pause_alert", {"number": 3}),
    ("Pause rule 1", "pause_alert", {"number": 1}),
    ("resume alert 2", "resume_alert", {"number": 2}),
    ("unpause alert 4", "resume_alert", {"number": 4}),
    ("delete alert #1", "delete_alert", {"number": 1}),
    ("remove alert 5", "delete_alert", {"number": 5}),
    ("what are people saying about SOL", "search_posts", {"query": "SOL", "symbol": SOL}),
    ("what is twitter saying about $ETH", "search_posts", {"query": "ETH", "symbol": ETH}),
    ("What's everyone talking about on BTC?", "search_posts", {"query": "BTC", "symbol": BTC}),
    ("what do you know about $SOL", "search_knowledge", {"query": "$SOL", "symbol": "SOL"}),
    ("search the news for ETF approval", "search_knowledge", {"query": "ETF approval"}),
    ("tell me about restaking", "search_knowledge", {"query": "restaking"}),
    ("find news about BTC", "search_knowledge", {"query": "BTC", "symbol": "BTC"}),
    ("what's trending", "trending_symbols", {}),
    ("which coins are most mentioned today", "trending_symbols", {}),
    ("anything hot right now?", "trending_symbols", {}),
    (f"watch wallet {WALLET}", "watch_wallet", {"address": WALLET}),
    (f"please watch {WALLET}", "watch_wallet", {"address": WALLET}),
    ("follow @cryptoanalyst", "follow_account", {"platform": "x", "handle": "cryptoanalyst"}),
    ("Follow @sol_news for me", "follow_account", {"platform": "x", "handle": "sol_news"}),
    ("I hold 2 ETH", "remember", {"fact": "I hold 2 ETH"}),
    ("I have 0.5 BTC", "remember", {"fact": "I have 0.5 BTC"}),
    ("I trade on Binance", "remember", {"fact": "I trade on Binance"}),
    ("my risk tolerance is low", "remember", {"fact": "my risk tolerance is low"}),
    ("remember that I prefer swing trades", "remember", {"fact": "I prefer swing trades"}),
    ("what do you remember about me", "recall_memory", {}),
    ("What do you know about me?", "recall_memory", {}),
    ("forget that I hold ETH", "forget", {"fact": "I hold ETH"}),
    ("how much is my ETH worth?", "get_price", {"symbol": ETH}),
]


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    misses: list[tuple[str, tuple[str, dict[str, Any]] | None]]


def recorders() -> ToolRegistry:
    """Every registered tool, doing nothing: the graph and the model decide as usual."""
    registry = ToolRegistry()
    tools = {t.name: t for node in AGENT_TOOLS.nodes() for t in AGENT_TOOLS.for_node(node)}
    for tool in tools.values():

        async def record(_: Any, arguments: Any) -> dict[str, Any]:
            return {}

        registry.add(
            AgentTool(tool.name, tool.description, tool.arguments, record, tool.nodes, tool.confirm)
        )
    return registry


async def decision(graph: Any, text: str) -> tuple[str, dict[str, Any]] | None:
    """The first tool call the graph's specialist makes for `text` (None: none)."""
    state = await graph.ainvoke({"messages": [HumanMessage(text)]}, acting_for(None))
    for message in state["messages"]:
        if isinstance(message, AIMessage) and message.tool_calls:
            call = message.tool_calls[0]
            return call["name"], call["args"]
    return None


async def evaluate(model: BaseChatModel) -> Evaluation:
    graph = build_agent(lambda node: model, recorders(), "evaluation")
    misses = []
    for text, tool, expected in EVALUATION:
        made = await decision(graph, text)
        if made is None or made[0] != tool or any(made[1].get(k) != v for k, v in expected.items()):
            misses.append((text, made))
    return Evaluation(1 - len(misses) / len(EVALUATION), misses)
