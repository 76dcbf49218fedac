"""The slots of an alert request: what to watch, when it fires, how often, until when.

A price alert is one of the rule engine's conditions, read from the words around the
numbers:

- a **level**: a side (above, below, crossing up or down; "breaks" is above) and a
  price: "ETH under 2.8k", "BTC crosses 95,000 going up", "drops to 2500";
- a **move**: a percentage and a direction (up, down or either, from the verb or the
  sign), within a window: "dumps 10% today", "-5% 15m"; or an amount in dollars:
  "moves more than $2,000 in a day";
- a **volume spike**: a multiple of the usual volume: "volume 3x normal".

"hits 4k", "touches 5k", "gets to 300" name a level to reach: the alert fires when the
price gets there from wherever it is (condition ``reaches``: the tool picks the side
from the latest price, never the model). "at 300" and a crossing without its direction
name no move toward the level: their side is asked.
Also read: the venue ("on Binance"), the frequency ("just once", "every time", "at most
once a day") and, for a level, an expiry ("by Friday", "this week").

`alert_slots` returns only what the message says; `alert_call` fills the defaults and
says what is still missing, so slots said over several turns (`clarification`) merge.
"""

from __future__ import annotations

import re
from typing import Any

from agent.offline import lexicon
from agent.offline.normalise import Token
from agent.offline.quantities import Quantity
from agent.offline.reading import Reading
from agent.offline.vocabulary import SymbolBook

Slots = dict[str, Any]
DEFAULT_WINDOW_S = 3600
MOVE_SIZE_WORDS = frozenset({"morethan", "over", "atleast", "by"})
"""Between a move's verb and its size: "moves more than $2,000", "drops by 5%"."""
REACH_VERBS = lexicon.REACH | frozenset({"goes", "gets", "go", "get", "is", "trade", "trading"})


def alert_slots(reading: Reading, book: SymbolBook) -> Slots:
    """What the message says about a price alert (see the module docstring)."""
    slots: Slots = {}
    if reading.coins:
        coin = reading.coins[0]
        slots["symbol"] = book.pair(coin.ticker, coin.quote)
    if reading.venue is not None:
        slots["venue"] = reading.venue
    slots |= _frequency(reading)
    slots |= _condition(reading)
    durations = [q for q in reading.kinds("duration") if q.start not in reading.used]
    moving = slots.get("kind") in ("move", "move_amount", "volume")
    if durations and (moving or "kind" not in slots):
        slots["window_s"] = int(durations[0].value)
    elif reading.period is not None and (moving or "kind" not in slots):
        slots["window_s"] = reading.period.window_s
    if reading.period is not None and slots.get("kind") == "level":
        slots["expires_at"] = reading.period.expires_at.isoformat()
    return slots


def merged(asked: Slots, answer: Slots) -> Slots:
    """An answer's slots over the pending request's. A direction alone ("going down",
    "up") answers a level's missing side, not a new move of unsaid size."""
    sized = any(name in answer for name in ("percent", "amount", "multiple", "level"))
    if asked.get("kind") == "level" and answer.get("kind") == "move" and not sized:
        side = {"up": "above", "down": "below"}.get(answer.get("direction", ""))
        if asked.get("side") == "cross" and side is not None:
            side = "crosses_up" if side == "above" else "crosses_down"
        answer = {k: v for k, v in answer.items() if k not in ("kind", "direction")}
        if side is not None:
            answer["side"] = side
    return asked | answer


def alert_call(slots: Slots) -> tuple[dict[str, Any] | None, list[str]]:
    """The `create_alert` arguments the slots make, or what is missing to make them."""
    missing = []
    if "symbol" not in slots:
        missing.append("symbol")
    kind = slots.get("kind")
    if kind is None:
        return None, [*missing, "condition"]
    if kind == "level":
        if slots.get("side") in (None, "cross"):
            missing.append("side")
        if "level" not in slots:
            missing.append("level")
    elif kind == "move" and "percent" not in slots and "amount" not in slots:
        missing.append("size")
    elif kind == "volume" and "multiple" not in slots:
        missing.append("multiple")
    if missing:
        return None, missing
    return _arguments(slots), []


def _arguments(slots: Slots) -> dict[str, Any]:
    arguments: dict[str, Any] = {"symbol": slots["symbol"]}
    kind = slots["kind"]
    if kind == "level":
        arguments |= {"condition": slots["side"], "threshold": slots["level"]}
    elif kind == "volume":
        arguments |= {"condition": "volume_spike", "multiple": slots["multiple"]}
    elif "percent" in slots:
        arguments |= {"condition": "percent_change", "percent": slots["percent"]}
    else:
        arguments |= {"condition": "absolute_move", "amount": slots["amount"]}
    if kind != "level":
        arguments["window_s"] = slots.get("window_s", DEFAULT_WINDOW_S)
        if kind != "volume":
            arguments["direction"] = slots.get("direction", "either")
    for name in ("venue", "frequency", "interval_s", "expires_at"):
        if name in slots:
            arguments[name] = slots[name]
    return arguments


# -- the condition ---------------------------------------------------------------------------


def _condition(reading: Reading) -> Slots:
    """The condition's slots: its kind (level, move, move_amount, volume), side, size and
    direction, as far as the message says them."""
    amounts = [q for q in reading.kinds("amount") if q.start not in reading.used]
    slots: Slots = {}
    direction = _direction(reading)
    if direction is not None:
        slots["direction"] = direction
    multiples = reading.kinds("multiple")
    if multiples:
        slots["multiple"] = multiples[0].value
    percents = reading.kinds("percent")
    if reading.says(lexicon.VOLUME):
        return slots | {"kind": "volume"}
    if percents:
        return slots | {"kind": "move", "percent": abs(percents[0].value)}
    return slots | _level_or_move(reading, amounts, direction)


def _level_or_move(reading: Reading, amounts: list[Quantity], direction: str | None) -> Slots:
    tokens = reading.tokens
    side, at = _side(tokens)
    if side is not None or _reached(tokens):
        level = _after(amounts, at) if at is not None else None
        level = level or (amounts[0] if amounts else None)
        said: Slots = {"kind": "level"}
        if side is not None:
            said["side"] = side
        elif _reached(tokens, lexicon.REACH - {"at"}):
            said["side"] = "reaches"
        if level is None:
            return said
        value = -level.value if level.sign == "-" else level.value
        # Prices are above zero: "below -5" could never fire, so its level is asked again
        # (saying why), never dropped to "below 5" nor sent to be refused as a tool error.
        return said | ({"level": value} if value > 0 else {"bad_level": value})
    moved = _move_size(tokens, amounts)
    if moved is not None:
        return {"kind": "move_amount", "amount": moved.value}
    if direction is not None and reading.says(lexicon.FALL, lexicon.RISE, lexicon.MOVE):
        return {"kind": "move"}
    if amounts:  # "alert me at 300": a level, side unsaid
        return {"kind": "level", "level": amounts[0].value}
    return {}


def _direction(reading: Reading) -> str | None:
    percents = reading.kinds("percent")
    if percents and percents[0].sign:
        return "down" if percents[0].sign == "-" else "up"
    for meaning, direction in (
        (lexicon.FALL, "down"),
        (lexicon.RISE, "up"),
        (lexicon.MOVE, "either"),
    ):
        if reading.says(meaning):
            return direction
    return None


def _side(tokens: list[Token]) -> tuple[str | None, int | None]:
    """The side of a level and where it was said: above, below, crosses_up/_down, or
    "cross" when the crossing's direction is not said; a move's "more than" is not one."""
    for i in range(len(tokens)):
        side = _side_at(tokens, i)
        if side is not None:
            return side, i
    return None, None


def _side_at(tokens: list[Token], i: int) -> str | None:
    token = tokens[i]
    before = tokens[i - 1] if i > 0 else None
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    if token.is_word(lexicon.CROSS):
        return _crossing(tokens, i)
    if token.is_word(lexicon.ABOVE | lexicon.BELOW | lexicon.BREAK):
        return None if _a_move_size(token, before) else _above_or_below(token)
    if following is None or following.kind != "number":
        return None
    if token.is_word("past"):
        return "above"  # "goes past 120"
    return _toward(before) if token.is_word("to") else None


def _toward(verb: Token | None) -> str | None:
    """ "pumps to 5k": above; "drops to 2500": below; "goes to 4k": unsaid."""
    if verb is not None and verb.is_word(lexicon.RISE):
        return "above"
    return "below" if verb is not None and verb.is_word(lexicon.FALL) else None


def _a_move_size(token: Token, before: Token | None) -> bool:
    """ "moves more than $2,000", "falls more than 8 percent": a move's size, not a side."""
    if before is None:
        return False
    if before.is_word(lexicon.MOVE):
        return token.text != "above"
    return before.is_word(lexicon.RISE | lexicon.FALL) and token.text in ("morethan", "lessthan")


def _above_or_below(token: Token) -> str:
    """ "breaks" a level is above it."""
    return "below" if token.text in lexicon.BELOW else "above"


def _crossing(tokens: list[Token], at: int) -> str:
    for token in tokens[at + 1 :]:
        if token.is_word(lexicon.RISE | lexicon.ABOVE):
            return "crosses_up"
        if token.is_word(lexicon.FALL | lexicon.BELOW):
            return "crosses_down"
    return "cross"


def _reached(tokens: list[Token], verbs: frozenset[str] = lexicon.REACH) -> bool:
    """A level without a side said with one of `verbs` ("hits 4k", "at 300"), or a verb
    of going "to" it ("gets to 5")."""
    for i, token in enumerate(tokens[:-1]):
        following = tokens[i + 1]
        if token.is_word(verbs) and following.kind == "number":
            return True
        if token.is_word(REACH_VERBS) and following.is_word("to"):
            return True
    return False


def _after(amounts: list[Quantity], at: int) -> Quantity | None:
    return next((q for q in amounts if q.start > at), None)


def _move_size(tokens: list[Token], amounts: list[Quantity]) -> Quantity | None:
    """ "moves $150", "swings more than 10 bucks", "drops 150": an amount moved."""
    for amount in amounts:
        i = amount.start - 1
        while i >= 0 and tokens[i].is_word(MOVE_SIZE_WORDS):
            i -= 1
        if i >= 0 and tokens[i].is_word(lexicon.MOVE | lexicon.RISE | lexicon.FALL):
            return amount
    return None


# -- how often --------------------------------------------------------------------------------


def _frequency(reading: Reading) -> Slots:
    """ "just once", "every time", "at most once a day", "hourly"; the time it names is
    marked used, so it is not read as the move's window."""
    for i in range(len(reading.tokens)):
        said = _frequency_at(reading, i)
        if said:
            return said
    return {}


FIXED_FREQUENCIES: dict[str, Slots] = {
    "onlyonce": {"frequency": "once"},
    "everytime": {"frequency": "every_time"},
}


def _frequency_at(reading: Reading, i: int) -> Slots:
    tokens = reading.tokens
    token = tokens[i]
    if token.kind != "word":
        return {}
    if token.text in FIXED_FREQUENCIES:
        return FIXED_FREQUENCIES[token.text]
    if token.text in lexicon.FREQUENCY_WORDS:
        return {"frequency": "at_most_once_per", "interval_s": lexicon.FREQUENCY_WORDS[token.text]}
    return _once_or_per(reading, i) if token.text in ("once", "every", "per") else {}


def _once_or_per(reading: Reading, i: int) -> Slots:
    """ "once a day", "every hour", "per hour": an interval; "me once when": once."""
    tokens = reading.tokens
    interval = _interval_after(reading, i + 1)
    if interval is not None and not (tokens[i].text == "per" and _bare_per(tokens, i)):
        return {"frequency": "at_most_once_per", "interval_s": interval}
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    then = following is not None and following.is_word("when", "if", "it")
    return {"frequency": "once"} if tokens[i].text == "once" and i > 0 and then else {}


def _interval_after(reading: Reading, i: int) -> int | None:
    """The duration at `i` (after "once", "every", "per"), skipping "a", "per"..."""
    while i < len(reading.tokens) and reading.tokens[i].is_word("per", "every", "each"):
        i += 1
    for quantity in reading.kinds("duration"):
        if quantity.start == i or (quantity.start == i - 1 and quantity.end > i):
            reading.used.update(range(quantity.start, quantity.end))
            return int(quantity.value)
    return None


def _bare_per(tokens: list[Token], i: int) -> bool:
    """ "5% per hour" is a move's window, not a frequency: "per" after a percentage."""
    return i > 0 and tokens[i - 1].kind == "number" and tokens[i - 1].suffix == "%"


# -- post alerts -----------------------------------------------------------------------------

KEYWORD_AFTER = frozenset(
    {"mention", "about", "mentioning", "on", "keyword", "word", "term", "phrase"}
)
NOT_KEYWORDS = (
    lexicon.FUNCTION_WORDS | lexicon.PEOPLE | lexicon.SOCIAL | lexicon.ENGAGEMENT
    | lexicon.ALERT | lexicon.WHEN | frozenset({"start", "begin", "post", "with", "over"})
)  # fmt: skip


def post_alert_slots(reading: Reading) -> Slots:
    """Posts to alert on: a keyword or cashtag, an account, a minimum engagement."""
    slots: Slots = {}
    if reading.handles or reading.bare_handle:
        slots["account"] = reading.handles[0] if reading.handles else reading.bare_handle
    keyword = quoted(reading.text)
    if keyword is None:
        keyword = reading.coins[0].ticker if reading.coins else _keyword(reading.tokens)
    if keyword is not None:
        slots["keyword"] = keyword
    engagement = _engagement(reading)
    if engagement is not None:
        slots["min_engagement"] = engagement
    return slots


def post_alert_call(slots: Slots) -> tuple[dict[str, Any] | None, list[str]]:
    if "keyword" not in slots and "account" not in slots:
        return None, ["subject"]
    return dict(slots), []


QUOTED = re.compile(
    r"(?:^|(?<=\s))[\"\u201c\u2018']([^\"\u201c\u201d\u2018\u2019']{2,64})[\"\u201d\u2019']"
    r"(?=$|[\s.,!?;:])"
)
"""A phrase said in quotes ("track the keyword 'etf approval'"): a keyword kept whole."""


def quoted(text: str) -> str | None:
    """The first phrase in quotes, as said (lower case), if it has a letter."""
    found = QUOTED.search(text)
    if found is None or not re.search(r"[a-z]", found.group(1), re.I):
        return None
    phrase = " ".join(found.group(1).split()).lower()
    return phrase or None


def keyword_of(reading: Reading) -> str | None:
    """The keyword a message names: quoted, a coin, or the word after "mention"/"about"."""
    if (phrase := quoted(reading.text)) is not None:
        return phrase
    return reading.coins[0].ticker if reading.coins else _keyword(reading.tokens)


def _keyword(tokens: list[Token]) -> str | None:
    """The word posts must mention: the first content word after "mention"/"about"."""
    for i, token in enumerate(tokens):
        if not token.is_word(KEYWORD_AFTER):
            continue
        for following in tokens[i + 1 :]:
            if following.kind != "word":
                break
            if following.text not in NOT_KEYWORDS:
                return following.raw.strip("'").lower()
    return None


def _engagement(reading: Reading) -> int | None:
    """ "with 500 likes", "1k+ likes", "over 500 likes", "2k engagement"."""
    tokens = reading.tokens
    for amount in reading.kinds("amount"):
        following = tokens[amount.end : amount.end + 2]
        if any(t.is_word(lexicon.ENGAGEMENT) for t in following):
            return int(amount.value)
    return None
