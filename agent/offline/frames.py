"""The slots of every request but alerts (`alert_frames`): what each tool call needs.

Each intent has a pair of functions: ``<intent>_slots(reading)`` returns what a message
says for it, ``<intent>_call(slots)`` the tool calls those slots make, or the names of
the slots still missing (which `clarification` asks for). Slots said over several turns
merge before the call is made.
"""

from __future__ import annotations

from typing import Any

from agent.offline import lexicon
from agent.offline.alert_frames import keyword_of
from agent.offline.reading import HANDLE, Reading
from agent.offline.vocabulary import SymbolBook

Slots = dict[str, Any]
Calls = list[tuple[str, dict[str, Any]]]
MAX_ALERT_NUMBER = 1000
PLURAL_ALERTS = frozenset({"alerts", "rules", "notifications", "ones", "them", "all", "both"})


# -- prices ------------------------------------------------------------------------------


def price_slots(reading: Reading, book: SymbolBook) -> Slots:
    slots: Slots = {}
    if reading.coins:
        slots["symbols"] = [book.pair(c.ticker, c.quote) for c in reading.coins]
    if reading.unknown:
        slots["unknown"] = reading.unknown[0]
    if reading.venue is not None:
        slots["venue"] = reading.venue
    return slots


def price_call(slots: Slots) -> tuple[Calls, list[str]]:
    symbols = list(dict.fromkeys(slots.get("symbols", [])))
    if not symbols:
        return [], ["symbol"]
    venue = {"venue": slots["venue"]} if slots.get("venue") else {}
    return [("get_price", {"symbol": symbol} | venue) for symbol in symbols], []


def prediction_slots(reading: Reading, book: SymbolBook) -> Slots:
    """What a prediction asked about: its coin and the level said, offered as an alert."""
    slots: Slots = {"why": "prediction"}
    if reading.coins:
        slots["coin"] = reading.coins[0].ticker
    levels = [q.value for q in reading.kinds("amount") if q.value > 0]
    if levels:
        slots["level"] = levels[0]
    return slots


# -- listing and changing alerts ------------------------------------------------------------


def list_slots(reading: Reading, book: SymbolBook) -> Slots:
    slots: Slots = {}
    if reading.coins:
        coin = reading.coins[0]
        slots["symbol"] = book.pair(coin.ticker, coin.quote)
    for token in reading.tokens:
        status = lexicon.STATUS.get(token.raw.lower())
        if status is not None:
            slots["status"] = status
    return slots


def selection_slots(reading: Reading, book: SymbolBook) -> Slots:
    """Which alerts a pause, resume or delete is about: numbers, a coin, or all."""
    slots: Slots = {}
    numbers = [
        int(q.value)
        for q in reading.quantities
        if q.kind == "ordinal" or (q.kind == "amount" and q.bare and q.value <= MAX_ALERT_NUMBER)
    ]
    if numbers:
        slots["numbers"] = numbers
    if reading.coins:
        coin = reading.coins[0]
        slots["symbol"] = book.pair(coin.ticker, coin.quote)
    raw = {token.raw.lower() for token in reading.tokens if token.kind == "word"}
    one_of = reading.says("one") and reading.says("of")
    if not one_of and (reading.says(lexicon.EVERY) or raw & PLURAL_ALERTS):
        slots["all"] = True
    return slots


def selection_call(tool: str, slots: Slots) -> tuple[Calls, list[str]]:
    if slots.get("numbers"):
        return [(tool, {"number": number}) for number in dict.fromkeys(slots["numbers"])], []
    if slots.get("symbol"):
        return [(tool, {"symbol": slots["symbol"]})], []
    if slots.get("all"):
        return [(tool, {"all": True})], []
    return [], ["which"]


# -- research ----------------------------------------------------------------------------------


def window_slots(reading: Reading) -> Slots:
    """A search's window: "this week", "today", "in the last 4 hours"."""
    durations = reading.kinds("duration")
    if durations:
        return {"window_s": int(durations[0].value)}
    if reading.period is not None:
        return {"window_s": reading.period.window_s}
    return {}


POSTS_NOISE = lexicon.POSTS | lexicon.SOCIAL | lexicon.PEOPLE | frozenset({"on", "saying"})
"""Words that ask for posts, not what they are about ("anything on twitter about")."""


def posts_slots(reading: Reading, book: SymbolBook) -> Slots:
    """The coin's posts: the query is the topic said right after the coin ("the
    hyperliquid unlock": "unlock"), or else its ticker."""
    slots = window_slots(reading)
    if reading.coins:
        coin = reading.coins[0]
        kept = dict(_topic(reading, POSTS_NOISE))
        topic = []
        for i in range(coin.end, len(reading.tokens)):
            if i not in kept:
                break
            topic.append(kept[i])
        query = " ".join(topic) or coin.ticker
        slots |= {"query": query, "symbol": book.pair(coin.ticker, coin.quote)}
    return slots


def keyword_slots(reading: Reading) -> Slots:
    """Posts naming a keyword ("any mentions of airdrop today?")."""
    return window_slots(reading) | {"query": keyword_of(reading)}


def posts_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "symbol" not in slots and not slots.get("query"):
        return [], ["symbol"]
    return [("search_posts", slots)], []


QUERY_NOISE = (
    lexicon.NEWS
    | lexicon.FUNCTION_WORDS
    | frozenset(
        {"news", "explain", "search", "what", "is", "know", "tell", "about", "anything", "new",
         "any", "have", "find", "look", "up", "recent", "current", "info", "information",
         "top", "latest", "newest", "headline", "headlines", "biggest", "important", "show",
         "me", "give", "get", "pls", "please"}
    )
)  # fmt: skip


WINDOW_NOISE = frozenset(
    {"this", "past", "last", "today", "week", "day", "hour", "month", "in", "over", "within",
     "since", "yesterday", "tonight", "the", "an", "a", "recently"}
)  # fmt: skip
"""The words of a window said ("this week", "in the last hour"): not the topic."""


def knowledge_slots(reading: Reading) -> Slots:
    """The topic, in the user's words, and the coin it is about (a bare ticker)."""
    slots: Slots = window_slots(reading)
    query = " ".join(dict.fromkeys(raw for _, raw in _topic(reading))).strip(" ?.!,")
    if query:
        slots["query"] = query
    if reading.coins:
        slots["symbol"] = reading.coins[0].ticker
        slots.setdefault("query", reading.coins[0].ticker)
    return slots


def _topic(reading: Reading, noise: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """The words of what a search is about, as written, with their positions: not its
    window ("this week"), nor the words that ask for a search (`QUERY_NOISE`, `noise`)."""
    timed = {i for q in reading.kinds("duration") for i in range(q.start, q.end)}
    if window_slots(reading):
        timed |= {i for i, t in enumerate(reading.tokens) if t.raw.lower() in WINDOW_NOISE}
    dropped = QUERY_NOISE | noise
    return [
        (i, token.raw)
        for i, token in enumerate(reading.tokens)
        if token.kind in ("word", "cashtag", "pair", "number")
        and i not in timed
        and not (token.kind == "word" and token.text in dropped and not token.upper)
    ]


LATEST = "latest news"
"""What "news" alone asks for."""


def knowledge_call(slots: Slots) -> tuple[Calls, list[str]]:
    return [("search_knowledge", {"query": LATEST} | slots)], []


# -- watches ------------------------------------------------------------------------------------


def wallet_slots(reading: Reading) -> Slots:
    if reading.addresses:
        return {"address": reading.addresses[0]}
    if reading.bad_addresses:
        return {"bad_address": reading.bad_addresses[0]}
    return {}


def wallet_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "address" not in slots:
        return [], ["address"]
    return [("watch_wallet", {"address": slots["address"]})], []


def account_slots(reading: Reading) -> Slots:
    handle = reading.handles[0] if reading.handles else reading.bare_handle
    return {"handle": handle} if handle else {}


def account_answer_slots(reading: Reading) -> Slots:
    """The account asked for: an @handle, or one name alone written as a handle is
    ("EmberCN", "cz_binance": capitals inside, a digit or an underscore) or that no word
    spells ("lookonchain"), when it answers "which account?" (not "thanks", "Hello")."""
    said = account_slots(reading)
    name = reading.text.strip(" .!")
    written = any(c.isdigit() or c == "_" for c in name) or not name[1:].islower()
    written = written or reading.lone_name is not None
    everyday = reading.says(lexicon.THANKS | lexicon.GREETING | lexicon.PRAISE | {"hello"})
    if said or reading.coins or everyday or not (HANDLE.fullmatch(name) and written):
        return said
    return {"handle": name}


def account_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "handle" not in slots:
        return [], ["handle"]
    return [("follow_account", {"platform": "x", "handle": slots["handle"]})], []


# -- memory ----------------------------------------------------------------------------------


def recall_slots(reading: Reading) -> Slots:
    """What a recall bears on: the coin asked about ("what did i tell you about my eth
    bag?"), else everything."""
    return {"query": reading.coins[0].ticker} if reading.coins else {}


LEADING = frozenset(
    {"remember", "fyi", "note", "memorize", "record", "that", "can", "could", "you", "would",
     "please", "to", "and", "also", "forget", "unremember", "unlearn", "dont", "don't",
     "do", "not", "btw", "just", "so", "know"}
)  # fmt: skip


def fact_slots(reading: Reading) -> Slots:
    """The user's own words after the request's verb: "remember that I swing trade" ->
    "I swing trade"; after "about" when they point at what they said ("forget what I
    said about my risk appetite" -> "my risk appetite")."""
    tokens = reading.tokens
    start = 0
    while start < len(tokens) and (tokens[start].kind == "mark" or tokens[start].is_word(LEADING)):
        start += 1
    about = next(
        (i for i in range(start, min(start + 6, len(tokens))) if tokens[i].is_word("about")), None
    )
    if about is not None and reading.says(lexicon.FORGET | lexicon.DELETE):
        start = about + 1
    if start >= len(tokens):
        return {}
    fact = reading.text[tokens[start].at :].strip(" ?.!,")
    return {"fact": fact} if fact else {}


def remember_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "fact" not in slots:
        return [], ["fact"]
    return [("remember", {"fact": slots["fact"]})], []


def forget_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "fact" not in slots:
        return [], ["fact"]
    return [("forget", {"fact": slots["fact"]})], []
