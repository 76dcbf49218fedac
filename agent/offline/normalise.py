"""From a message as typed to tokens the offline model reads.

1. Unicode is folded (NFKC: full-width digits, ligatures), and the message is cut into
   tokens: wallet addresses, @handles, ``$TICKER``s, pairs (``ETH/USDT``), numbers with
   what is stuck to them (``$95,000``, ``100k``, ``-5%``, ``15m``, ``3x``, ``2nd``),
   signs (``₿``, ``>``), words; emoji and other punctuation are dropped, ``?`` and ``,``
   kept as marks, and so is an arrow (``->``: "eth moves $150 -> alert"), never read as
   ``>``.
2. Each word is lower-cased, its shorthand expanded and filler dropped (`lexicon.SLANG`:
   "rn" -> "now", "pls" -> nothing), then put in its base form or corrected
   (`Vocabulary.base_form`: "alrets" -> "alert", "etherium" -> "ethereum").
3. Runs of words that mean one thing become that word (`lexicon.PHRASES`: "let me
   know" -> "notify", "get rid of" -> "delete").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Literal, cast

from agent.offline import lexicon
from agent.offline.vocabulary import Vocabulary

Kind = Literal["word", "number", "address", "hex", "handle", "cashtag", "pair", "sign", "mark"]

_TOKENS = re.compile(
    r"""
      (?P<address>0x[0-9a-fA-F]{40})(?![0-9A-Za-z])
    | (?P<hex>0x[0-9A-Za-z]*)
    | (?P<handle>@[A-Za-z0-9_]{1,32})
    | (?!(?i:in/out|out/in)(?![A-Za-z]))  # both ways ("transfers in/out"), not a pair
      (?P<pair>\$?[A-Za-z][A-Za-z0-9]{1,11}/[A-Za-z]{2,6})(?![A-Za-z])
    | (?P<cashtag>\$[A-Za-z][A-Za-z0-9]{0,11})(?![A-Za-z0-9])
    | (?P<number>
        (?P<sign>[+\-\u2212])?
        (?P<pre>[$€£¥]\s?)?
        (?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:_\d+)*(?:\.\d+)?|\.\d+)
        (?P<post>\s?[$€£¥])?
        (?P<suffix>%|(?:bn|hrs|hr|mins|min|st|nd|rd|th|k|m|b|x|h|d|w|s|c)(?![A-Za-z]))?
      )
    | (?P<symbol>[₿Ξ€£¥$])
    | (?P<word>[^\W\d_]+(?:['\u2019][^\W\d_]+)*)
    | (?P<arrow>->|=>|\u2192)
    | (?P<op>>=?|<=?)
    | (?P<mark>[?,;&+\-#/])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One unit of a message. `text` is what the readers compare: a word's base form, a
    handle without its @, a cashtag's or a pair's ticker in capitals, a mark or sign."""

    kind: Kind
    text: str
    raw: str
    value: float | None = None
    """A number's value as written, before its suffix (``100k`` -> 100)."""
    suffix: str = ""
    """What is stuck to a number: ``k``, ``%``, ``m``, ``x``, ``h``, ``nd``..."""
    currency: str = ""
    """A currency sign at a number: ``$``, ``€``..."""
    sign: str = ""
    """``+`` or ``-`` before a number."""
    upper: bool = False
    """A word written in capitals (``NEAR``): a ticker rather than a word."""
    said: tuple[str, ...] = field(default=(), compare=False)
    """The raw words a phrase token was made of."""
    at: int = 0
    """Where in the message the token starts (characters, after Unicode folding)."""

    def is_word(self, *meanings: frozenset[str] | str) -> bool:
        """Whether this is a word in any of `meanings` (sets of base forms or words)."""
        if self.kind != "word":
            return False
        return any(
            self.text == meaning if isinstance(meaning, str) else self.text in meaning
            for meaning in meanings
        )


_HYPHENATED = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
"""A hyphen inside a word ("one-time", "set-up"): its parts are read as words."""


def tokenise(text: str, vocabulary: Vocabulary) -> list[Token]:
    """The tokens of `text` (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
    folded = _HYPHENATED.sub(" ", folded)
    tokens: list[Token] = []
    for match in _TOKENS.finditer(folded):
        tokens += [replace(token, at=match.start()) for token in _matched(match, vocabulary)]
    return _phrases(tokens)


def _matched(match: re.Match[str], vocabulary: Vocabulary) -> list[Token]:
    kind, raw = str(match.lastgroup), match.group(0)
    if match.group("number") is not None:
        return [_number(match)]
    if kind == "word":
        return _words(raw, vocabulary)
    text = {
        "handle": raw[1:],
        "cashtag": raw[1:].upper(),
        "pair": raw.lstrip("$").upper(),
        "op": raw[0],
    }.get(kind, raw)
    token_kind = {"op": "word", "symbol": "sign", "arrow": "mark"}.get(kind, kind)
    return [Token(cast(Kind, token_kind), text, raw)]


def _number(match: re.Match[str]) -> Token:
    digits = match.group("digits").replace(",", "").replace("_", "")
    currency = (match.group("pre") or match.group("post") or "").strip()
    sign = (match.group("sign") or "").replace("\u2212", "-")
    return Token(
        "number",
        digits,
        match.group(0),
        value=float(digits),
        suffix=(match.group("suffix") or "").lower(),
        currency=currency,
        sign=sign,
    )


def _words(raw: str, vocabulary: Vocabulary) -> list[Token]:
    """One written word as tokens: its shorthand expanded (maybe to none), each in its
    base form; capitals are remembered (a ticker rather than a word)."""
    upper = len(raw) > 1 and raw.isupper()
    lowered = raw.lower().replace("'", "")
    if (lowered,) in vocabulary.names or upper:
        expanded: tuple[str, ...] = (lowered,)
    else:
        expanded = lexicon.SLANG.get(lowered, (lowered,))
    tokens = []
    for word in expanded:
        base = word if upper else vocabulary.base_form(word)
        expansion = lexicon.SLANG.get(base) if base != word else None
        for part in expansion if expansion is not None else (base,):
            tokens.append(Token("word", part, raw, upper=upper))
    return tokens


def _phrases(tokens: list[Token]) -> list[Token]:
    """Runs of words that mean one thing, as that one word (the longest run first). A
    message that opens with "heads up," gives information: "fyi", not "notify"."""
    merged = _runs(tokens)
    if len(merged) > 1 and merged[0].said[:2] == ("heads", "up") and merged[1].kind == "mark":
        merged[0] = replace(merged[0], text="fyi")
    return merged


def _runs(tokens: list[Token]) -> list[Token]:
    longest = max(len(phrase) for phrase in lexicon.PHRASES)
    merged: list[Token] = []
    position = 0
    while position < len(tokens):
        for size in range(longest, 1, -1):
            run = tokens[position : position + size]
            if len(run) < size or any(t.kind != "word" or t.upper for t in run):
                continue
            meaning = lexicon.PHRASES.get(tuple(t.text for t in run))
            if meaning is None:
                continue
            said = tuple(t.raw for t in run)
            merged += [replace(run[0], text=word, said=said) for word in meaning.split() if meaning]
            position += size
            break
        else:
            merged.append(tokens[position])
            position += 1
    return merged


def words(tokens: list[Token]) -> set[str]:
    """The base forms of a message's words, for "does it say any of these" questions."""
    return {token.text for token in tokens if token.kind == "word"}
