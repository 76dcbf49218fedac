"""The offline model's vocabulary: the pairs it can name, and every word it knows.

- `SymbolBook` holds the pairs the system can price: those configured (simulator,
  exchange, CoinGecko) and those seen in prices since. It is shared and grows; a word
  names a coin when the coin table (`coins`) or the book says so.
- `Vocabulary` is built from the lexicon, the coin names and the book: the set of
  known words, each word's base form ("drops" -> "drop", "dipped" -> "dip"), and the
  correction of a misspelt word to the nearest known one by edit distance (optimal
  string alignment, so "pirce" is one transposition from "price"), in C++ (rapidfuzz).

A word of English is never "corrected" ("hack" is not a typo of "track"): the English
words and their frequencies are SymSpell's dictionary (82,765 words, from SCOWL and the
Google Books n-grams), shipped with symspellpy. Among corrections equally near, a
transposition ("waht" -> "what", not "wait") and then the more frequent word wins.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import OSA

from agent.offline import lexicon
from agent.offline.coins import NAMES, QUOTES

DEFAULT_QUOTE = "USDT"


class SymbolBook:
    """The pairs the system can price (``BASE/QUOTE``); safe to grow from any thread."""

    def __init__(self, symbols: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._quotes: dict[str, tuple[str, ...]] = {}
        self.version = 0
        self.learn(symbols)

    def learn(self, symbols: Iterable[str]) -> None:
        """Add pairs (already known ones change nothing)."""
        with self._lock:
            quotes = {base: list(known) for base, known in self._quotes.items()}
            for symbol in symbols:
                base, _, quote = symbol.upper().partition("/")
                if base and quote and quote not in quotes.setdefault(base, []):
                    quotes[base].append(quote)
            frozen = {base: tuple(known) for base, known in quotes.items()}
            if frozen != self._quotes:
                self._quotes = frozen
                self.version += 1

    def bases(self) -> frozenset[str]:
        return frozenset(self._quotes)

    def pairs(self) -> frozenset[str]:
        return frozenset(
            f"{base}/{quote}" for base, known in self._quotes.items() for quote in known
        )

    def pair(self, base: str, quote: str | None = None) -> str:
        """The pair a trader means by `base` (and `quote`, if they said one): the said
        quote, else a dollar quote the system prices (USDT first), else USDT. "ETH in USD"
        means the dollar price the system has (ETH/USDT) when it has no ETH/USD."""
        known = self._quotes.get(base, ())
        if quote is not None and (quote in known or quote not in QUOTES or not known):
            return f"{base}/{quote}"
        for dollar in (DEFAULT_QUOTE, *sorted(QUOTES - {DEFAULT_QUOTE})):
            if dollar in known:
                return f"{base}/{dollar}"
        return f"{base}/{known[0] if known else DEFAULT_QUOTE}"

    def examples(self, count: int = 5) -> list[str]:
        """A few bases to suggest, the well-known first."""
        bases = sorted(self._quotes, key=lambda base: (base not in NAMES, base))
        return bases[:count] or ["BTC", "ETH", "SOL"][:count]


_LEXICON_SETS = [value for value in vars(lexicon).values() if isinstance(value, frozenset)]
_BASE_WORDS = (
    frozenset(
        word
        for words in _LEXICON_SETS
        for word in words
        if isinstance(word, str) and word.isalpha()
    )
    | frozenset(lexicon.NUMBER_WORDS)
    | frozenset(lexicon.SCALE_WORDS)
    | frozenset(lexicon.ORDINALS)
    | frozenset(lexicon.WEEKDAYS)
    | frozenset(lexicon.DURATION_UNITS)
    | frozenset(lexicon.STATUS)
    | frozenset(lexicon.MULTIPLE_WORDS)
    | frozenset(lexicon.FREQUENCY_WORDS)
    | frozenset(word for words in lexicon.SLANG.values() for word in words)
    | frozenset(word for phrase in lexicon.PHRASES for word in phrase)
    | frozenset(lexicon.PHRASES.values())
)
"""Every word the lexicon names, in its base form."""

MIN_FUZZY_LENGTH = 4
"""Shorter words are never corrected: "sol" is one letter from "sold", "ton", "top"."""
ENGLISH = "frequency_dictionary_en_82_765.txt"
_REPEATS = re.compile(r"(.)\1{2,}")


@cache
def english() -> dict[str, int]:
    """English words and how often they occur (SymSpell's dictionary), read once."""
    text = (resources.files("symspellpy") / ENGLISH).read_text(encoding="utf-8")
    pairs = (line.split(" ", 1) for line in text.splitlines() if line)
    return {word: int(count) for word, count in pairs}


class Vocabulary:
    """The words known while the book is at one version (see the module docstring)."""

    def __init__(self, book: SymbolBook) -> None:
        self.version = book.version
        names: dict[tuple[str, ...], str] = {}
        for ticker, spelled in NAMES.items():
            for name in (*spelled, ticker.lower()):
                names[tuple(name.split())] = ticker
        for base in book.bases():
            names.setdefault((base.lower(),), base)
        self.names = names
        self.pairs = book.pairs()
        """The pairs the system prices (``BASE/QUOTE``)."""
        """A coin name as a run of words (lower case) -> its ticker."""
        self.longest_name = max(len(name) for name in names)
        coin_words = frozenset(word for name in names for word in name)
        self.known = _BASE_WORDS | coin_words
        self._targets = sorted(
            {w for w in _BASE_WORDS if len(w) >= MIN_FUZZY_LENGTH and w.isalpha()}
            | {w for name in names for w in name if len(w) > MIN_FUZZY_LENGTH and w.isalpha()}
        )
        self.base_form = lru_cache(maxsize=4096)(self._base_form)
        english()  # read now (~0.1 s, once per process), not in the turn of the first typo

    @staticmethod
    def is_english(word: str) -> bool:
        return word in english()

    def _base_form(self, word: str) -> str:
        """`word` as the lexicon spells it: itself if known, else without its
        inflection ("pumps", "dumping", "dipped"), else the nearest known word within
        the edit distance its length allows, else itself."""
        if word in self.known or not word.isalpha():
            return word
        for stem in _stems(word):
            if stem in self.known:
                return stem
        if word in english():
            return word
        single = _REPEATS.sub(r"\1", word)  # "heyyy", "yesss", "pleaseee"
        if single != word and (single in self.known or single in english()):
            return self._base_form(single)
        return self._corrected(word) or word

    def _corrected(self, word: str) -> str | None:
        if len(word) < MIN_FUZZY_LENGTH:
            return None
        allowed = 1 if len(word) < 6 else 2  # longer words, more slips
        found = process.extract(
            word, self._targets, scorer=OSA.distance, score_cutoff=allowed, limit=None
        )
        candidates = [
            (int(distance), str(target))
            for target, distance, _ in found
            if distance <= 1 or target[0] == word[0]  # two slips and another first letter: no
        ]
        if not candidates:
            return None
        frequency = english()
        _, best = min(
            candidates,
            key=lambda c: (c[0], sorted(c[1]) != sorted(word), -frequency.get(c[1], 0), c[1]),
        )
        return best


def _stems(word: str) -> list[str]:
    """Candidate base forms of an inflected word, most likely first."""
    stems: list[str] = []
    for suffix, replacements in (
        ("ies", ("y",)),
        ("ing", ("", "e")),
        ("ed", ("", "e")),
        ("es", ("", "e")),
        ("s", ("",)),
    ):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            root = word[: -len(suffix)]
            stems += [root + ending for ending in replacements]
            if len(root) > 2 and root[-1] == root[-2]:  # "dipped", "dropping"
                stems.append(root[:-1])
    return stems
