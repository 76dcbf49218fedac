"""Numbers as traders write them, and times as they say them.

- Amounts: ``100k``, ``1.5m``, ``$95,000``, ``3000$``, ``2.5 k``, ``15 cents``,
  ``10 bucks``, "two thousand five hundred"; percentages (``5%``, "5 percent"),
  multiples (``3x``, "3 times"), durations (``15m``, ``4h``, "an hour", "half an hour"),
  ordinals (``2nd``, "the second one").
- A ``m`` after a number is minutes where a time fits ("-5% 15m", "in 30m") and
  millions elsewhere ("above 1.2m").
- Relative times (`Period`): "today", "tonight", "tomorrow", "this week", "by Friday",
  "this month", "in the next hour": a window for a move or a search, an expiry for a
  level ("above 5k by Friday" ends on Friday, in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from agent.offline import lexicon
from agent.offline.coins import OTHER_QUOTES
from agent.offline.normalise import Token

QuantityKind = Literal["amount", "percent", "multiple", "duration", "ordinal"]

SUFFIX_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9}
SUFFIX_SECONDS = {"s": 1, "m": 60, "min": 60, "mins": 60, "h": 3600, "hr": 3600, "hrs": 3600,
                  "d": 86400, "w": 604800}  # fmt: skip
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
TIME_BEFORE = frozenset({"in", "within", "over", "per", "every", "last", "past", "next", "a"})
ARTICLES = frozenset({"a", "an", "one"})
DAY_S = 86400
WEEK_S = 7 * DAY_S


@dataclass(frozen=True)
class Quantity:
    kind: QuantityKind
    value: float
    start: int
    end: int
    """The tokens it was read from: ``tokens[start:end]``."""
    currency: str = ""
    """``$`` for dollars (any dollar quote), a fiat code (``EUR``) for another."""
    sign: str = ""
    bare: bool = False
    """A plain whole number, nothing stuck to it: maybe an alert's number."""


def quantities(tokens: list[Token]) -> list[Quantity]:
    """Every quantity in `tokens`, in order."""
    timed = any(t.suffix == "%" or t.is_word("percent") for t in tokens)
    found: list[Quantity] = []
    position = 0
    while position < len(tokens):
        read = _at(tokens, position, timed)
        if read is None:
            position += 1
            continue
        found.append(read)
        position = read.end
    return found


def _at(tokens: list[Token], i: int, timed: bool) -> Quantity | None:
    token = tokens[i]
    if token.kind == "number" and token.value is not None:
        return _number(tokens, i, timed)
    return _in_words(tokens, i) if token.kind == "word" else None


WORD_QUANTITIES: dict[str, tuple[QuantityKind, float]] = {
    "halfhour": ("duration", 1800),
    **{word: ("multiple", value) for word, value in lexicon.MULTIPLE_WORDS.items()},
}


def _in_words(tokens: list[Token], i: int) -> Quantity | None:
    """ "half an hour", "double", "the second one", "an hour", "per hour", "ten"."""
    text = tokens[i].text
    if text in WORD_QUANTITIES:
        kind, value = WORD_QUANTITIES[text]
        return Quantity(kind, value, i, i + 1)
    if text in lexicon.ORDINALS and _ordinal_fits(tokens, i):
        return Quantity("ordinal", lexicon.ORDINALS[text], i, i + 1)
    if text in ARTICLES:
        seconds = _unit(tokens, i + 1)
        return Quantity("duration", seconds, i, i + 2) if seconds else None
    if _unit(tokens, i) and i > 0 and tokens[i - 1].is_word(TIME_BEFORE - {"a"}):
        return Quantity("duration", lexicon.DURATION_UNITS[text], i, i + 1)  # "per hour"
    if text in lexicon.NUMBER_WORDS and text != "one":
        return _spelled(tokens, i)
    return None


SUFFIX_KINDS: dict[str, QuantityKind] = {
    "%": "percent",
    "x": "multiple",
    **{suffix: "ordinal" for suffix in ORDINAL_SUFFIXES},
}


def _number(tokens: list[Token], i: int, timed: bool) -> Quantity:
    token = tokens[i]
    value = token.value or 0.0
    suffix, end = token.suffix, i + 1
    if not suffix:
        suffix, value, end = _spelt_suffix(tokens, end, value)
    if suffix in SUFFIX_KINDS:
        return Quantity(SUFFIX_KINDS[suffix], value, i, end, sign=token.sign)
    seconds = _seconds(suffix, tokens, i, timed)
    if seconds is not None:
        return Quantity("duration", value * seconds, i, end)
    if suffix == "c":
        return Quantity("amount", value / 100, i, end, currency="$")
    value *= SUFFIX_SCALE.get(suffix, 1.0)
    currency, end = _currency(token, tokens, end)
    bare = not suffix and not currency and value.is_integer() and "." not in token.raw
    return Quantity("amount", value, i, end, currency=currency, sign=token.sign, bare=bare)


SPELT_SUFFIXES = {"percent": "%", **dict.fromkeys(lexicon.MULTIPLE, "x")}


def _spelt_suffix(tokens: list[Token], at: int, value: float) -> tuple[str, float, int]:
    """What the word after a bare number makes of it: "100 k", "2 thousand", "5 percent",
    "3 times", "15 cents", "4 hours" (the suffix, the value, where the quantity ends)."""
    after = tokens[at] if at < len(tokens) and tokens[at].kind == "word" else None
    if after is None:
        return "", value, at
    if after.text in lexicon.SCALE_WORDS:
        return "", value * lexicon.SCALE_WORDS[after.text], at + 1
    if after.text in SUFFIX_SCALE or after.text in SPELT_SUFFIXES:
        return SPELT_SUFFIXES.get(after.text, after.text), value, at + 1
    if after.text in lexicon.CENTS:
        return "c", value, at + 1
    if after.text in lexicon.DURATION_UNITS:
        return after.text, value, at + 1
    return "", value, at


def _seconds(suffix: str, tokens: list[Token], i: int, timed: bool) -> int | None:
    """A duration's unit in seconds: ``h``, "hours"...; ``m`` is minutes only where a
    time fits (else millions)."""
    if suffix == "m":
        return 60 if _minutes(tokens, i, timed) else None
    if suffix in SUFFIX_SECONDS:
        return SUFFIX_SECONDS[suffix]
    return lexicon.DURATION_UNITS.get(suffix) if len(suffix) > 1 else None


def _currency(token: Token, tokens: list[Token], end: int) -> tuple[str, int]:
    """The currency of an amount: its sign, or the word after it ("10 bucks", "90k
    euros"): ``$`` for any dollar, a fiat code for another."""
    currency = "$" if token.currency == "$" else OTHER_QUOTES.get(token.currency, "")
    after = tokens[end] if end < len(tokens) and tokens[end].kind == "word" else None
    if currency or after is None:
        return currency, end
    if after.text in lexicon.DOLLARS:
        return "$", end + 1
    if after.text in OTHER_QUOTES:
        return OTHER_QUOTES[after.text], end + 1
    return "", end


def _minutes(tokens: list[Token], i: int, timed: bool) -> bool:
    """Whether a number with ``m`` is minutes: after "in", "within"... or beside a
    percentage ("-5% 15m"); else millions."""
    return timed or (i > 0 and tokens[i - 1].is_word(TIME_BEFORE))


def _unit(tokens: list[Token], i: int) -> int | None:
    if i < len(tokens) and tokens[i].is_word(*lexicon.DURATION_UNITS):
        unit = tokens[i].text
        return lexicon.DURATION_UNITS[unit] if len(unit) > 1 else None
    return None


def _ordinal_fits(tokens: list[Token], i: int) -> bool:
    """ "the second one", "2nd alert": an ordinal; "a second" is a time."""
    if tokens[i].text != "second":
        return True
    before = tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    return (before is not None and before.is_word("the")) or (
        after is not None and after.is_word(lexicon.ALERT_NOUNS)
    )


def _spelled(tokens: list[Token], i: int) -> Quantity | None:
    """ "two thousand five hundred" -> 2500; "ten percent" -> 10%."""
    total, group, end = 0, 0, i
    while end < len(tokens) and tokens[end].kind == "word":
        word = tokens[end].text
        if word in lexicon.NUMBER_WORDS:
            group += lexicon.NUMBER_WORDS[word]
        elif word in lexicon.SCALE_WORDS:
            scale = lexicon.SCALE_WORDS[word]
            if scale == 100:
                group = (group or 1) * scale
            else:
                total, group = total + (group or 1) * scale, 0
        elif word != "and":
            break
        end += 1
    value = float(total + group)
    after = tokens[end] if end < len(tokens) else None
    if after is not None and after.is_word("percent"):
        return Quantity("percent", value, i, end + 1)
    if after is not None and after.is_word(*lexicon.DURATION_UNITS):
        return Quantity("duration", value * lexicon.DURATION_UNITS[after.text], i, end + 1)
    return Quantity("amount", value, i, end, bare=True)


# -- relative times ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A time said relative to now: what it means as a window and as an expiry."""

    window_s: int
    expires_at: datetime
    start: int
    end: int


def period(
    tokens: list[Token], found: list[Quantity], now: datetime | None = None
) -> Period | None:
    """The relative time `tokens` say, if any (see the module docstring)."""
    now = now or datetime.now(UTC)
    for i, token in enumerate(tokens):
        if token.kind != "word":
            continue
        said = _said_period(token.text, now)
        if said is not None:
            window, expiry = said
            return Period(window, expiry, i, i + 1)
        if token.text == "next":
            following = next((q for q in found if q.start == i + 1), None)
            seconds = following.value if following and following.kind == "duration" else None
            seconds = seconds or (_unit(tokens, i + 1) or None)
            if seconds:
                return Period(int(seconds), now + timedelta(seconds=seconds), i, i + 2)
    return None


def _said_period(word: str, now: datetime) -> tuple[int, datetime] | None:
    today_end = now.replace(hour=23, minute=59, second=59, microsecond=0)
    if word in ("today", "tonight"):
        return DAY_S, today_end
    if word == "tomorrow":
        return DAY_S, today_end + timedelta(days=1)
    if word == "thisweek":
        return WEEK_S, today_end + timedelta(days=6 - now.weekday())
    if word == "thismonth":
        following = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
        return 30 * DAY_S, today_end + timedelta(days=(following - now).days - 1)
    if word in lexicon.WEEKDAYS:
        ahead = (lexicon.WEEKDAYS.index(word) - now.weekday()) % 7
        return max(ahead, 1) * DAY_S, today_end + timedelta(days=ahead)
    return None


def in_words(seconds: float) -> str:
    """ "15 minutes", "an hour", "4 hours", "a day", "a week"."""
    for unit, size in (("week", WEEK_S), ("day", DAY_S), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{'an' if unit == 'hour' else 'a'} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{int(seconds)} seconds"
