"""How the offline model words an answer from tool results: one template per tool.

A result is the tool's JSON (`ToolRegistry.call`); an ``{"error": ...}`` result is said
as what could not be done. A real model writes its own answer from the same results.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from aggregates.memory import understand

Composer = Callable[[Any], str]


def _amount(value: float) -> str:
    return f"{value:,.2f}" if value >= 1 else f"{value:.6g}"


def _price(result: dict[str, Any], memory: Sequence[str] = ()) -> str:
    label = " (simulated market)" if result.get("simulated") else ""
    said = (
        f"{result['symbol']} is {_amount(result['price'])} on {result['venue']}{label},"
        f" as of {str(result['at'])[:19].replace('T', ' ')} UTC."
    )
    base, _, quote = str(result["symbol"]).partition("/")
    held = _holding(memory, base)
    if held is None:
        return said
    return f"{said} Your {held:g} {base}: {_amount(held * result['price'])} {quote}."


def _holding(memory: Sequence[str], asset: str) -> float | None:
    """The amount of `asset` the user said they hold, if a remembered fact says so."""
    for fact in memory:
        subject, fields = understand(fact)
        if subject == "holding" and fields.get("asset") == asset and "amount" in fields:
            return float(fields["amount"])
    return None


def _rule_line(number: int, rule: dict[str, Any]) -> str:
    line = f"{number}. {rule['summary']} — {rule['status']}"
    health = rule.get("health") or {}
    if health.get("state", "armed") in ("armed", rule["status"]):
        return line
    return f"{line}, but {_first_lower(health['detail'])}"


def _created(result: dict[str, Any]) -> str:
    """ "Done: ..." only for a rule that can fire; else what it waits for, first."""
    health = result.get("health") or {}
    if health.get("state", "armed") == "armed":
        return f"Done: {result['summary']}. It is alert {result['number']} in your list."
    return (
        f"Done, but {_first_lower(health['detail'])} It is alert {result['number']} in your"
        f" list: {result['summary']}."
    )


def _first_lower(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _alerts(result: dict[str, Any]) -> str:
    rules = result["alerts"]
    if not rules:
        return 'You have no alerts yet. Try "alert me when BTC goes above 100000".'
    lines = [_rule_line(rule["number"], rule) for rule in rules]
    return "Your alerts:\n" + "\n".join(lines)


def _changed(verb: str) -> Composer:
    return lambda result: f"{verb} alert {result['number']}: {result['summary']}."


def _posts(result: dict[str, Any]) -> str:
    posts = result["posts"]
    if not posts:
        return f"I found nothing recent about {result['query']}."
    lines = [
        f"• {post['author']}: {post['text'][:200]} ({post['engagement']} interactions)"
        for post in posts
    ]
    return f"What people are saying about {result['query']}:\n" + "\n".join(lines)


def _passages(result: dict[str, Any]) -> str:
    passages = result["passages"]
    if not passages:
        return f"I have read nothing about {result['query']} yet."
    lines = [f"• {p['author']}: {p['text'][:300]}" for p in passages]
    return f"From what I have read about {result['query']}:\n" + "\n".join(lines)


def _trending(result: dict[str, Any]) -> str:
    symbols = result["symbols"]
    if not symbols:
        return "Nothing is trending in the posts I have seen yet."
    lines = [f"{n}. {s['symbol']} ({s['mentions']} mentions)" for n, s in enumerate(symbols, 1)]
    return "Most mentioned lately:\n" + "\n".join(lines)


def _watching(result: dict[str, Any]) -> str:
    if result.get("chain_watched", True):
        return f"Now watching {result['watching']}."
    return (
        f"Added {result['watching']} to your watches, but nothing watches a chain here yet:"
        " no activity will be reported until a chain watcher runs."
    )


def _remembered(result: dict[str, Any]) -> str:
    said = f"Noted, I will remember: {result['remembered']['text']}"
    replaced = result.get("replaced")
    if replaced is not None:
        return f"{said} (instead of: {replaced['text']})."
    return f"{said}."


def _recalled(result: dict[str, Any]) -> str:
    facts = result["facts"]
    if not facts:
        if result.get("query"):
            return f"You have told me nothing about {result['query']}."
        return 'You have not told me anything to remember yet. Try "I hold 2 ETH".'
    lines = [f"• {fact['text']}" for fact in facts]
    return "You told me:\n" + "\n".join(lines)


def _forgotten(result: dict[str, Any]) -> str:
    return "Forgotten: " + "; ".join(fact["text"] for fact in result["forgotten"]) + "."


def _pending(result: dict[str, Any]) -> str:
    return f'{result["question"]} Reply "yes" to confirm.'


COMPOSERS: dict[str, Composer] = {
    "get_price": _price,
    "create_alert": _created,
    "create_post_alert": _created,
    "list_alerts": _alerts,
    "pause_alert": _changed("Paused"),
    "resume_alert": _changed("Resumed"),
    "delete_alert": _changed("Deleted"),
    "search_posts": _posts,
    "trending_symbols": _trending,
    "search_knowledge": _passages,
    "watch_wallet": _watching,
    "follow_account": _watching,
    "remember": _remembered,
    "recall_memory": _recalled,
    "forget": _forgotten,
}


def compose(results: list[tuple[str, str]], memory: Sequence[str] = ()) -> str:
    """The answer to a turn whose tools returned `results` ((tool name, JSON) pairs);
    `memory`, the facts recalled for the turn, completes a price with the user's holding."""
    return "\n\n".join(_one(tool, content, memory) for tool, content in results)


def _one(tool: str, content: str, memory: Sequence[str]) -> str:
    try:
        result = json.loads(content)
    except ValueError:
        return content
    if isinstance(result, dict) and "error" in result:
        return f"I could not do that: {result['error']}"
    if isinstance(result, dict) and "question" in result:
        return _pending(result)
    composer = COMPOSERS.get(tool)
    if composer is None:
        return content
    try:
        return _price(result, memory) if tool == "get_price" else composer(result)
    except (KeyError, TypeError):
        return content
