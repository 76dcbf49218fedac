"""How the offline model words an answer from tool results: one template per tool.

A result is the tool's JSON (`ToolRegistry.call`); an ``{"error": ...}`` result is said
as what could not be done. A real model writes its own answer from the same results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Composer = Callable[[Any], str]


def _amount(value: float) -> str:
    return f"{value:,.2f}" if value >= 1 else f"{value:.6g}"


def _price(result: dict[str, Any]) -> str:
    label = " (simulated market)" if result.get("simulated") else ""
    return (
        f"{result['symbol']} is {_amount(result['price'])} on {result['venue']}{label},"
        f" as of {str(result['at'])[:19].replace('T', ' ')} UTC."
    )


def _rule_line(number: int, rule: dict[str, Any]) -> str:
    return f"{number}. {rule['summary']} — {rule['status']}"


def _created(result: dict[str, Any]) -> str:
    return f"Done: {result['summary']}. It is alert {result['number']} in your list."


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
    return f"Now watching {result['watching']}."


def _pending(result: dict[str, Any]) -> str:
    return f'{result["question"]} Reply "yes" to confirm.'


COMPOSERS: dict[str, Composer] = {
    "get_price": _price,
    "create_alert": _created,
    "list_alerts": _alerts,
    "pause_alert": _changed("Paused"),
    "resume_alert": _changed("Resumed"),
    "delete_alert": _changed("Deleted"),
    "search_posts": _posts,
    "trending_symbols": _trending,
    "search_knowledge": _passages,
    "watch_wallet": _watching,
    "follow_account": _watching,
}


def compose(results: list[tuple[str, str]]) -> str:
    """The answer to a turn whose tools returned `results` ((tool name, JSON) pairs)."""
    return "\n\n".join(_one(tool, content) for tool, content in results)


def _one(tool: str, content: str) -> str:
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
        return composer(result)
    except (KeyError, TypeError):
        return content
