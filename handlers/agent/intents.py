"""The phrasings the offline model understands, and the tool call each one means.

The offline model is the embedded default: no network, no key, the same answer every
time. It covers a documented set of requests (the `PHRASINGS` below, which the README
lists and the evaluation set exercises) and says so plainly when a message is not one
of them. A real model behind the same tools understands far more; this one exists so
that the whole system runs, and is tested, offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aggregates.memory import understand

QUOTE = "USDT"
"""The quote currency a bare ticker means: "ETH" is ETH/USDT."""


@dataclass(frozen=True)
class Intent:
    tool: str
    arguments: dict[str, Any]


def symbol(ticker: str) -> str:
    """ "eth", "$ETH", "ETH/USDT", "eth-usdt" -> "ETH/USDT"."""
    cleaned = ticker.strip().lstrip("$").upper().replace("-", "/")
    return cleaned if "/" in cleaned else f"{cleaned}/{QUOTE}"


def number(text: str) -> float:
    """ "100,000", "100k", "1.5m", "65000" -> a float."""
    cleaned = text.replace(",", "").replace("_", "").lower()
    scale = {"k": 1e3, "m": 1e6, "b": 1e9}.get(cleaned[-1:], 1.0)
    return float(cleaned.rstrip("kmb")) * scale


TICKER = r"\$?(?P<ticker>[A-Za-z0-9]{2,12}(?:[/-][A-Za-z0-9]{2,12})?)"
AMOUNT = r"\$?(?P<amount>\d[\d,_]*(?:\.\d+)?[kmbKMB]?)"
UNIT_S = {"minute": 60, "min": 60, "hour": 3600, "hr": 3600, "h": 3600, "day": 86400, "d": 86400}
DURATION = re.compile(r"^(?:(?P<count>\d+)\s*)?(?P<unit>minute|min|hour|hr|h|day|d)s?$", re.I)


def _window_s(text: str | None) -> int:
    """ "hour", "15 minutes", "24h", "day" -> seconds (an hour when unsaid)."""
    match = DURATION.match((text or "").strip())
    if match is None:
        return 3600
    return int(match.group("count") or 1) * UNIT_S[match.group("unit").lower()]


def _alert_intent(match: re.Match[str]) -> Intent:
    words = match.group("verb").lower()
    direction = "up" if any(w in words for w in ("above", "over", "exceeds", "up")) else "down"
    level = "above" if direction == "up" else "below"
    kind = f"crosses_{direction}" if "cross" in words else level
    arguments = {
        "symbol": symbol(match.group("ticker")),
        "condition": kind,
        "threshold": number(match.group("amount")),
    }
    return Intent("create_alert", arguments)


RISING = ("rises", "pumps", "jumps", "goes up")
FALLING = ("drops", "falls", "dumps", "goes down")


def _move_intent(match: re.Match[str]) -> Intent:
    verb = match.group("verb").lower()
    direction = "up" if verb in RISING else "down" if verb in FALLING else "either"
    arguments = {
        "symbol": symbol(match.group("ticker")),
        "condition": "percent_change",
        "percent": float(match.group("percent")),
        "window_s": _window_s(match.group("window")),
        "direction": direction,
    }
    return Intent("create_alert", arguments)


def _post_alert_intent(match: re.Match[str]) -> Intent:
    arguments: dict[str, Any] = {}
    if match.group("handle"):
        arguments["account"] = match.group("handle")
    if match.group("ticker"):
        arguments["keyword"] = match.group("ticker").lstrip("$").upper()
    if match.group("min"):
        arguments["min_engagement"] = int(number(match.group("min")))
    return Intent("create_post_alert", arguments)


def _change_intent(match: re.Match[str]) -> Intent:
    verb = match.group("verb").lower()
    tool = {"pause": "pause_alert", "resume": "resume_alert", "unpause": "resume_alert"}
    return Intent(tool.get(verb, "delete_alert"), {"number": int(match.group("n"))})


def _search_intent(match: re.Match[str]) -> Intent:
    tag = match.group("ticker")
    return Intent("search_posts", {"query": tag.lstrip("$").upper(), "symbol": symbol(tag)})


def _knowledge_intent(match: re.Match[str]) -> Intent:
    topic = match.group("topic").strip(" ?.!")
    tag = topic.lstrip("$")
    arguments: dict[str, Any] = {"query": topic}
    if re.fullmatch(r"[A-Za-z0-9]{2,12}", tag) and (topic.startswith("$") or tag.isupper()):
        arguments["symbol"] = tag.upper()
    return Intent("search_knowledge", arguments)


def _remember_intent(match: re.Match[str]) -> Intent:
    return Intent("remember", {"fact": match.group("fact").strip(" ")})


def _forget_intent(match: re.Match[str]) -> Intent:
    return Intent("forget", {"fact": match.group("fact").strip(" .!")})


def _holding_price_intent(match: re.Match[str]) -> Intent:
    return Intent("get_price", {"symbol": symbol(match.group("ticker"))})


def _price_intent(match: re.Match[str]) -> Intent:
    tag = next(match.group(g) for g in ("ticker", "t2", "t3", "t4") if match.group(g))
    return Intent("get_price", {"symbol": symbol(tag)})


ASK = r"\b(?:alert|tell|notify|ping|warn)\b.*?\bwhen\s+"
LEVEL = (
    r"(?P<verb>(?:goes |gets |is |trades )?"
    r"(?:crosses (?:above|below|up|down)|above|over|below|under|exceeds"
    r"|drops below|falls below))"
)
MOVE = r"(?P<verb>moves|rises|pumps|jumps|drops|falls|dumps|goes up|goes down)"
PERCENT = r"\s+(?:by\s+)?(?P<percent>\d+(?:\.\d+)?)\s*%"
WITHIN = r"(?:\s+(?:in|within|over)\s+(?:(?:a|an|one)\s+)?(?P<window>[a-z0-9 ]+?))?\s*[.!?]?$"
MENTIONED = (
    r"(?:(?:people|anyone|someone|somebody|twitter|x)\s+|@(?P<handle>[A-Za-z0-9_]{1,32})\s+)?"
    r"(?:mentions?|talks? about|posts? about|tweets? about|posts|tweets)"
    r"(?:\s+" + TICKER + r")?"
    r"(?:\s+with\s+(?:at least\s+|over\s+|more than\s+)?(?P<min>\d[\d,]*[kK]?)\s*\+?\s*"
    r"(?:likes|engagement|interactions))?\s*[.!?]?$"
)
CROWD = (
    r"\b(?:what(?:'s| is| are)?|who(?:'s| is)?)\s+"
    r"(?:people|everyone|twitter|x|the crowd|they)\s+"
    r"(?:saying|talking|posting|think(?:ing)?)\s+(?:(?:about|of|on)\s+)+"
)
PRICE = (
    rf"\b(?:price|quote|value)\s+(?:of|for)\s+{TICKER}"
    rf"|\bhow much is\s+{TICKER.replace('ticker', 't2')}"
    rf"|^{TICKER.replace('ticker', 't3')}\s+(?:price|now)\??$"
    rf"|\bwhat(?:'s| is)\s+{TICKER.replace('ticker', 't4')}\s+(?:at|trading at|worth)"
)
KNOWLEDGE = (
    r"\b(?:what do you know about|search (?:the )?(?:news|knowledge|posts) (?:for|about)"
    r"|find (?:news|posts|anything) (?:on|about)|tell me about)\s+(?P<topic>.+)$"
)
LISTING = (
    r"\b(?:list|show|what are|which are|see)\b.*\b(?:alerts|rules)\b|^(?:my )?(?:alerts|rules)\??$"
)
CHANGE = r"\b(?P<verb>pause|resume|delete|remove|cancel|unpause)\s+(?:alert|rule)\s*#?(?P<n>\d+)\b"

REMEMBER = r"^(?:please\s+)?remember\s+(?:that\s+)?(?P<fact>.+)$"
RECALL = (
    r"\bwhat\s+(?:do|did)\s+you\s+(?:know|remember)\s+about\s+me\b"
    r"|\bwhat have i told you\b|^(?:show\s+)?(?:my\s+)?memory\??$"
)
FORGET = r"^(?:please\s+)?forget\s+(?:that\s+|about\s+)?(?P<fact>.+)$"
MY_HOLDING = rf"\b(?:how much (?:is|are)|what(?:'s| is| are)) my\s+{TICKER}\s+(?:worth|holdings?)\b"

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Intent]]] = [
    (re.compile(REMEMBER, re.I), _remember_intent),
    (re.compile(RECALL, re.I), lambda m: Intent("recall_memory", {})),
    (re.compile(FORGET, re.I), _forget_intent),
    (re.compile(rf"{ASK}{MENTIONED}", re.I), _post_alert_intent),
    (re.compile(rf"{ASK}{TICKER}\s+{LEVEL}\s+{AMOUNT}", re.I), _alert_intent),
    (re.compile(rf"{ASK}{TICKER}\s+{MOVE}{PERCENT}{WITHIN}", re.I), _move_intent),
    (re.compile(CHANGE, re.I), _change_intent),
    (re.compile(LISTING, re.I), lambda m: Intent("list_alerts", {})),
    (re.compile(rf"{CROWD}{TICKER}", re.I), _search_intent),
    (re.compile(KNOWLEDGE, re.I), _knowledge_intent),
    (
        re.compile(r"\b(?:trending|hot|popular|most (?:talked|mentioned))\b", re.I),
        lambda m: Intent("trending_symbols", {}),
    ),
    (
        re.compile(r"\bwatch\s+(?:wallet\s+)?(?P<address>0x[0-9a-fA-F]{40})\b", re.I),
        lambda m: Intent("watch_wallet", {"address": m.group("address")}),
    ),
    (
        re.compile(r"\bfollow\s+@(?P<handle>[A-Za-z0-9_]{1,32})\b", re.I),
        lambda m: Intent("follow_account", {"platform": "x", "handle": m.group("handle")}),
    ),
    (re.compile(MY_HOLDING, re.I), _holding_price_intent),
    (re.compile(PRICE, re.I), _price_intent),
]


def parse(text: str) -> Intent | None:
    """The tool call `text` asks for, or None when it is none of the known phrasings."""
    cleaned = " ".join(text.split())
    if understand(cleaned)[0] != "note":  # "I hold 2 ETH", "I trade on Binance": a fact
        return Intent("remember", {"fact": cleaned})
    for pattern, build in _PATTERNS:
        match = pattern.search(cleaned)
        if match:
            intent: Intent = build(match)
            return intent
    return None


IDENTITY = re.compile(
    r"\b(?:who|what)\s+are\s+you\b|\bare you (?:a |an )?(?:bot|ai|human|model)\b", re.I
)
CONFIRM = re.compile(r"^\s*(?:yes|y|yes please|confirm|do it|go ahead|ok|okay)\s*[.!]*\s*$", re.I)
