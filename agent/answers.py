"""Answers from tool results in plain language: one template per tool.

The offline model answers with these, and so does a turn cut short by a crash (answered
from its recorded results, without a model). A result is the tool's JSON
(`ToolRegistry.call`); an ``{"error": ...}`` result is said as what could not be done;
a ``{"question": ...}`` result is a confirmation asked (Yes / No). A real model writes
its own answer from the same results.

A created rule's answer says first whether it can fire (its health: "Done, but no price
source covers DOGE/USDT yet..."), then how often it fires and when it ends.
"""

from __future__ import annotations

import json
import re
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
    """ "Done: ..." for a rule that can fire, else what it waits for first; then how
    often it fires and when it ends."""
    health = result.get("health") or {}
    rule = f"alert {result['number']}, \u201c{result['summary']}\u201d."
    if health.get("state", "armed") == "armed":
        said = [f"Done: {rule}"]
    else:
        said = [f"Done, but {_first_lower(health['detail'])} It is {rule}"]
    if result.get("note"):  # which way a level to reach fires, from the price now
        said.append(f"{result['note']}.")
    if result.get("frequency"):
        said.append(_frequency(result["frequency"]))
    if result.get("expires_at"):
        said.append(f"It ends at {str(result['expires_at'])[:16].replace('T', ' ')} UTC.")
    return " ".join(said)


def _frequency(frequency: dict[str, Any]) -> str:
    """ "It fires at most once an hour, on the web." and the like."""
    kind = frequency.get("kind")
    if kind == "once":
        return "It fires once, on the web, then it is done."
    if kind == "every_time":
        quiet = _duration_words(int(frequency.get("cooldown_s", 0)))
        return f"It fires every time it holds, at most every {quiet}, on the web."
    return (
        f"It fires at most once {_duration_words(int(frequency.get('interval_s', 0)))}, on the web."
    )


def _duration_words(seconds: int) -> str:
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{'an' if unit == 'hour' else 'a'} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def _the_last(seconds: int) -> str:
    """ "the last week", "the last 4 hours"."""
    span = _duration_words(seconds)
    return "the last " + span.removeprefix("a ").removeprefix("an ")


def _first_lower(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _alerts(result: dict[str, Any]) -> str:
    rules = result["alerts"]
    if not rules and "of" in result:
        which = " ".join(str(w) for w in (result.get("status"), result.get("symbol")) if w)
        return f"You have no {which} alerts ({result['of']} in all)."
    if not rules:
        return 'You have no alerts yet. Try "alert me when BTC goes above 100000".'
    lines = [_rule_line(rule["number"], rule) for rule in rules]
    return "Your alerts:\n" + "\n".join(lines)


def _changed(verb: str) -> Composer:
    def said(result: dict[str, Any]) -> str:
        if "number" in result:
            return f"{verb} alert {result['number']}: {result['summary']}."
        changed, unchanged = result.get("alerts", []), result.get("unchanged", [])
        lines = [f"{verb} {len(changed)} alert{'s' if len(changed) != 1 else ''}"]
        lines[0] += ": " + "; ".join(f"{a['number']}. {a['summary']}" for a in changed) + "."
        if unchanged:
            left = "; ".join(f"{a['number']}. {a['summary']} ({a['status']})" for a in unchanged)
            lines.append(f"Left as they were: {left}.")
        return " ".join(lines)

    return said


def _posts(result: dict[str, Any]) -> str:
    posts = result["posts"]
    window = f" in {_the_last(result['window_s'])}" if result.get("window_s") else ""
    if not posts:
        return f"I found nothing{window or ' recent'} about {result['query']}."
    lines = [
        f"• {post['author']}: {post['text'][:200]} ({post['engagement']} interactions)"
        for post in posts
    ]
    return f"What people are saying about {result['query']}{window}:\n" + "\n".join(lines)


def _passages(result: dict[str, Any]) -> str:
    passages = result["passages"]
    if not passages:
        return f"I have read nothing about {result['query']} yet."
    lines = [f"• {p['author']}: {p['text'][:300]}" for p in passages]
    return f"From what I have read about {result['query']}:\n" + "\n".join(lines)


def _trending(result: dict[str, Any]) -> str:
    symbols = result["symbols"]
    window = int(result.get("window_s") or 86400)
    if not symbols:
        return f"Nothing is trending in the posts of {_the_last(window)}."
    lines = [f"{n}. {s['symbol']} ({s['mentions']} mentions)" for n, s in enumerate(symbols, 1)]
    covered = int(result.get("covered_s") or window)
    span = _the_last(window)
    if covered < window * 0.9:  # the posts stop short of the window asked
        span += f" (the posts I have go back {_duration_words(_rounded(covered))})"
    return f"Most mentioned in {span}:\n" + "\n".join(lines)


def _rounded(seconds: int) -> int:
    """To the hour past an hour, else to the minute: "30 hours", not "1803 minutes"."""
    size = 3600 if seconds >= 3600 else 60
    return max(size, seconds // size * size)


def _watching(result: dict[str, Any]) -> str:
    if result.get("chain_watched", True):
        return f"Now watching {result['watching']}."
    return (
        f"Added {result['watching']} to your watches, but nothing watches a chain here yet:"
        " no activity will be reported until a chain watcher runs."
    )


def _wallet_activity(result: dict[str, Any]) -> str:
    """ "In the last day 0x12…ab received 2 ETH from 0x98…76 (confirmed) ..."."""
    address, transfers = result["address"], result["transfers"]
    short = f"{address[:6]}…{address[-4:]}"
    if not result.get("chain_watched", True):
        return f"No chain watcher runs here, so I see nothing {short} did."
    if not transfers:
        return f"I saw no transfers of {short} in {_the_last(result['window_s'])}."
    lines = [f"{short} in {_the_last(result['window_s'])}:"]
    for transfer in transfers:
        verb, way = ("sent", "to") if transfer["direction"] == "out" else ("received", "from")
        amount = (
            f"{_amount(transfer['amount'])} {transfer['symbol'] or 'tokens'}"
            if transfer["amount"] is not None
            else f"{transfer['raw_amount']} units"
        )
        usd = f" (${_amount(transfer['usd_value'])})" if transfer.get("usd_value") else ""
        other = transfer["counterparty"]
        lines.append(
            f"- {verb} {amount}{usd} {way} {other[:6]}…{other[-4:]} ({transfer['status']})"
        )
    return "\n".join(lines)


def _fees(result: dict[str, Any]) -> str:
    if not result.get("chain_watched", True):
        return "No chain watcher runs here, so I see no fees collected."
    fees = result["fees"]
    if not fees:
        return f"The router collected no fees in {_the_last(result['window_s'])}."
    parts = [
        (
            f"{_amount(fee['amount'])} {fee['symbol'] or fee['token']}"
            if fee["amount"] is not None
            else f"{fee['raw_amount']} units of {fee['token']}"
        )
        + f" ({fee['count']} swap{'' if fee['count'] == 1 else 's'})"
        for fee in fees
    ]
    return f"The router collected {', '.join(parts)} in {_the_last(result['window_s'])}."


def _remembered(result: dict[str, Any]) -> str:
    said = f"Noted, I will remember: {result['remembered']['text']}"
    replaced = result.get("replaced")
    if replaced is not None:
        return f"{said} (instead of: {replaced['text']})."
    return f"{said}."


def _watches(result: dict[str, Any]) -> str:
    wallets = [w.get("ens") or w.get("label") or w["address"] for w in result["wallets"]]
    accounts = [f"@{a['handle']} on {a['platform']}" for a in result["accounts"]]
    keywords = [f'"{keyword}"' for keyword in result["keywords"]]
    parts = [
        (label, items)
        for label, items in (("Wallets", wallets), ("Accounts", accounts), ("Keywords", keywords))
        if items
    ]
    if not parts:
        return (
            'You are not watching anything yet. Try "watch 0x…" for a wallet or "follow'
            ' @someone" for an account; "list my alerts" shows your alerts.'
        )
    return "You are watching:\n" + "\n".join(
        f"• {label}: {', '.join(items)}" for label, items in parts
    )


def _recalled(result: dict[str, Any]) -> str:
    facts = result["facts"]
    if not facts:
        if result.get("query"):
            return f"You have told me nothing about {result['query']}."
        return 'You have not told me anything to remember yet. Try "I hold 2 ETH".'
    lines = [f"• {fact['text']}" for fact in facts]
    return "You told me:\n" + "\n".join(lines)


def _forgotten(result: dict[str, Any]) -> str:
    if result.get("all"):
        count = len(result["forgotten"])
        return f"Forgotten everything you told me ({count} fact{'s' if count != 1 else ''})."
    return "Forgotten: " + "; ".join(fact["text"] for fact in result["forgotten"]) + "."


CONFIRMATION = "Yes / No"

FAILED = {
    "get_price": "I could not get that price",
    "create_alert": "I could not create that alert",
    "create_post_alert": "I could not create that post alert",
    "list_alerts": "I could not list your alerts",
    "pause_alert": "I could not pause that alert",
    "resume_alert": "I could not resume that alert",
    "delete_alert": "I could not delete that alert",
    "search_posts": "I could not search the posts",
    "trending_symbols": "I could not tell what is trending",
    "search_knowledge": "I could not search the news",
    "watch_wallet": "I could not watch that wallet",
    "follow_account": "I could not follow that account",
    "remember": "I could not remember that",
    "recall_memory": "I could not recall what you told me",
    "forget": "I could not forget that",
    "forget_everything": "I could not forget everything",
    "wallet_activity": "I could not read that wallet's activity",
    "create_wallet_alert": "I could not create that wallet alert",
    "fees_collected": "I could not read the fees collected",
    "list_watches": "I could not list what you watch",
}
"""What could not be done, per tool: a failure is said without the tool's name."""
NOTHING_TO = {"pause_alert": "pause", "resume_alert": "resume", "delete_alert": "delete"}
REASONS = (
    (
        re.compile(r"only an active rule can be paused; this one is (\w+)"),
        "it is not active (it is {0})",
    ),
    (
        re.compile(r"only a paused rule can be resumed; this one is (\w+)"),
        "it is not paused (it is {0})",
    ),
)
"""Domain reasons said in the user's terms."""


def failure(tool: str, result: dict[str, Any]) -> str:
    """A tool's failure in plain language: what could not be done, and why, without the
    tool's name or its arguments' names (the model reads the JSON ``error`` itself)."""
    reason = str(result.get("reason") or result["error"]).rstrip(".")
    reason = reason.removeprefix(f"{tool} failed: ")
    invalid = re.match(r"invalid arguments for \w+: (.*)", reason)
    if invalid:
        reason = "the request was incomplete or malformed (" + invalid.group(1) + ")"
    if tool == "get_price" and result.get("symbol"):
        return _no_price(result)
    if reason.startswith("you have no") and tool in NOTHING_TO:
        return f"Nothing to {NOTHING_TO[tool]}: {reason}."
    for pattern, said in REASONS:
        found = pattern.search(reason)
        if found:
            reason = said.format(*found.groups())
    return f"{FAILED.get(tool, 'I could not do that')}: {reason}."


def _no_price(result: dict[str, Any]) -> str:
    where = f" on {result['venue']}" if result.get("venue") else ""
    said = f"I have no price for {result['symbol']}{where}: no running source reports it."
    known = [str(symbol) for symbol in result.get("known") or []]
    if not known:
        return said
    quotes = {symbol.partition("/")[2] for symbol in known}
    names = [s.partition("/")[0] if len(quotes) == 1 else s for s in known]
    return f"{said} I track {', '.join(names)}."


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
    "forget_everything": _forgotten,
    "list_watches": _watches,
    "wallet_activity": _wallet_activity,
    "create_wallet_alert": _created,
    "fees_collected": _fees,
}


def compose(results: list[tuple[str, str]], memory: Sequence[str] = ()) -> str:
    """The answer to a turn whose tools returned `results` ((tool name, JSON) pairs);
    `memory`, the facts recalled for the turn, completes a price with the user's holding.
    Confirmations asked are put together, with one "Yes / No"."""
    said = [_one(tool, content, memory) for tool, content in results]
    questions = [_question(content) for _, content in results]
    asked = [question for question in questions if question is not None]
    if not asked:
        return "\n\n".join(said)
    others = [text for text, question in zip(said, questions, strict=True) if question is None]
    return "\n\n".join([*others, " ".join(asked) + f" {CONFIRMATION}"])


def _question(content: str) -> str | None:
    try:
        result = json.loads(content)
    except ValueError:
        return None
    return str(result["question"]) if isinstance(result, dict) and "question" in result else None


def _one(tool: str, content: str, memory: Sequence[str]) -> str:
    try:
        result = json.loads(content)
    except ValueError:
        return content
    if isinstance(result, dict) and "error" in result:
        return failure(tool, result)
    composer = COMPOSERS.get(tool)
    if composer is None:
        return content
    try:
        return _price(result, memory) if tool == "get_price" else composer(result)
    except (KeyError, TypeError):
        return content
