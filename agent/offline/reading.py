"""What a message mentions, whatever it asks: coins, quantities, times, accounts, wallets.

A `Reading` is built once per message from its tokens; the intents (`understanding`)
and the slots of each request (`frames`) are decided from it. Coins are found by name
or ticker from the vocabulary (``bitcoin``, ``ETH``, ``₿``, ``$PEPE``, ``ARB/USDT``,
"shiba inu"); a name that is also a word ("near", "link", "hype") names the coin only
where a coin fits: not before a number ("near 4k"), not after an article ("the link"),
but beside a price or condition word, in a list of coins, or alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from agent.offline import lexicon
from agent.offline.coins import COMMON_WORDS, OTHER_QUOTES, QUOTES, STRICT_TICKERS
from agent.offline.normalise import Token, tokenise, words
from agent.offline.quantities import Period, Quantity, period, quantities
from agent.offline.vocabulary import Vocabulary

FIAT_CODES = frozenset(OTHER_QUOTES.values())
ARTICLES = frozenset({"a", "an", "the", "this", "that", "these", "those"})
COIN_CONTEXT = (
    lexicon.ABOVE | lexicon.BELOW | lexicon.CROSS | lexicon.REACH | lexicon.BREAK
    | lexicon.RISE | lexicon.FALL | lexicon.MOVE | lexicon.PRICE | lexicon.VOLUME
    | lexicon.POSTS | lexicon.NEWS
    | lexicon.WHEN
    | frozenset({"price", "is", "goes", "gets", "alert", "at", "and", "or", "of", "for",
                 "about", "on", "my", "the", "one", "ones", "now", "news", "today"})
)  # fmt: skip
"""Words beside which a name that is also a word names the coin."""
ADVERBS = frozenset({"ever", "just", "finally", "still", "really", "even", "actually"})
"""Words that may stand between a coin and its verb ("if dot ever drops")."""
NOT_TICKERS = frozenset(
    {"ETF", "CEO", "ATH", "ATL", "DCA", "NFT", "NFTS", "DEFI", "CEX", "DEX", "AI", "API", "FUD",
     "FOMO", "HODL", "USA", "US", "UK", "EU", "SEC", "CT", "FYI", "GM", "GN", "OK", "TY", "LOL",
     "IMO", "TA", "PNL", "ROI", "APY", "APR", "TVL", "MC", "FDV", "KYC", "AMA", "ICO", "IPO",
     "RN", "PLS", "ASAP", "NFA", "DYOR", "UTC", "AM", "PM", "I", "IM", "LMK", "BTW", "WTF",
     "OMG", "X", "TG", "DM", "USD", "USDT", "USDC", "EUR", "GBP", "JPY", "ETFS"}
)  # fmt: skip
"""Capitalised words traders write that are not tickers."""


@dataclass(frozen=True)
class Coin:
    ticker: str
    start: int
    end: int
    quote: str | None = None
    """A quote said with it (``ETH/USDT``, "eth usdt")."""


@dataclass
class Reading:
    """A message's tokens and everything they mention (see the module docstring)."""

    text: str
    tokens: list[Token]
    words: set[str]
    coins: list[Coin]
    unknown: list[str]
    """Words that look like a coin the system does not know ("foocoin", ``ABCX``)."""
    quantities: list[Quantity]
    period: Period | None
    handles: list[str]
    addresses: list[str]
    bad_addresses: list[str]
    venue: str | None
    other_quote: str | None
    """A quote other than the dollar the message asks in ("in euros", ``ETH/BTC``)."""
    question: bool
    bare_handle: str | None = None
    """An account named without its @ after a verb of following ("follow cz_binance")."""
    lone_name: str | None = None
    """The whole message as one name no word or coin spells ("lookonchain"): an answer to
    "which account?" that is a handle however it is written."""
    used: set[int] = field(default_factory=set)
    """Token positions a frame has taken (a frequency's "an hour" is not a window)."""

    def says(self, *meanings: frozenset[str] | str) -> bool:
        return any(
            (meaning in self.words) if isinstance(meaning, str) else bool(meaning & self.words)
            for meaning in meanings
        )

    def kinds(self, kind: str) -> list[Quantity]:
        return [q for q in self.quantities if q.kind == kind]


def read(text: str, vocabulary: Vocabulary, now: datetime) -> Reading:
    tokens = tokenise(text, vocabulary)
    found = quantities(tokens)
    coins, unknown = _coins(tokens, vocabulary, found)
    return Reading(
        text=text,
        tokens=tokens,
        words=words(tokens),
        coins=coins,
        unknown=unknown,
        quantities=found,
        period=period(tokens, found, now),
        handles=[t.text for t in tokens if t.kind == "handle"],
        addresses=[t.text for t in tokens if t.kind == "address"],
        bad_addresses=[t.text for t in tokens if t.kind == "hex"],
        venue=_venue(tokens),
        other_quote=_other_quote(tokens, coins, found, vocabulary),
        question=_question(tokens),
        bare_handle=_bare_handle(text, vocabulary),
        lone_name=_lone_name(text, vocabulary),
    )


def _coins(
    tokens: list[Token], vocabulary: Vocabulary, found: list[Quantity]
) -> tuple[list[Coin], list[str]]:
    inside = {i for q in found for i in range(q.start, q.end)}
    coins: list[Coin] = []
    unknown: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "pair":
            base, _, quote = token.text.partition("/")
            coins.append(Coin(base, i, i + 1, quote=quote))
        elif token.kind == "cashtag" and token.text not in QUOTES | FIAT_CODES:
            coins.append(Coin(token.text, i, i + 1))
        elif token.kind == "sign" and token.text in ("₿", "Ξ"):
            coins.append(Coin("BTC" if token.text == "₿" else "ETH", i, i + 1))
        elif token.kind == "word" and i not in inside:
            named = _named(tokens, i, vocabulary)
            if named is not None:
                coins.append(named)
                i = named.end
                continue
            if _looks_like_a_coin(token, vocabulary):
                unknown.append(token.raw)
        i += 1
    return coins, unknown


def _named(tokens: list[Token], i: int, vocabulary: Vocabulary) -> Coin | None:
    """The coin a run of words starting at `i` names, if any (the longest name first)."""
    for size in range(min(vocabulary.longest_name, len(tokens) - i), 0, -1):
        run = tokens[i : i + size]
        if any(t.kind != "word" for t in run):
            continue
        ticker = vocabulary.names.get(tuple(t.text for t in run))
        if ticker is None:
            continue
        if size == 1 and not _a_coin_here(tokens, i):
            return None
        return Coin(ticker, i, i + size, quote=_said_quote(tokens, i + size))
    return None


def _a_coin_here(tokens: list[Token], i: int) -> bool:
    """Whether a one-word name names the coin here: in capitals unless it is not a
    ticker ("ETF"); in lower case unless it is a plain word, or a word with a coin's
    name where no coin fits ("near 4k")."""
    word = tokens[i].text
    if tokens[i].upper:
        return word.upper() not in NOT_TICKERS
    if word in STRICT_TICKERS:
        return False
    return word not in COMMON_WORDS or _fits(tokens, i)


def _fits(tokens: list[Token], i: int) -> bool:
    """Whether a coin fits at `i` for a name that is also a word (module docstring)."""
    before = tokens[i - 1] if i > 0 else None
    later = [t for t in tokens[i + 1 :] if not t.is_word(ADVERBS)]
    after = later[0] if later else None
    if before is not None and before.is_word(lexicon.ALERT):
        return True  # "alert pepe 0.00002"
    if i + 1 < len(tokens) and tokens[i + 1].kind == "number":
        return False  # "near 4k"
    if before is not None and before.is_word(ARTICLES) and before.text != "the":
        return False
    if before is None and (after is None or after.kind == "mark"):
        return True  # alone: "near?"
    neighbours = [t for t in (before, after) if t is not None]
    return any(t.is_word(COIN_CONTEXT) or t.kind == "mark" for t in neighbours)


def _looks_like_a_coin(token: Token, vocabulary: Vocabulary) -> bool:
    raw = token.raw
    if raw.lower().endswith("coin") and len(raw) > 4 and token.text not in vocabulary.known:
        return True
    return raw.isupper() and 2 <= len(raw) <= 6 and raw not in NOT_TICKERS


def _said_quote(tokens: list[Token], i: int) -> str | None:
    """A quote said right after a coin: "BTC in euros", "eth usdt"."""
    after = tokens[i] if i < len(tokens) else None
    if after is not None and after.kind == "word" and after.raw.upper() in QUOTES:
        return after.raw.upper()
    return None


def _venue(tokens: list[Token]) -> str | None:
    for i, token in enumerate(tokens):
        if token.kind == "word" and token.text in lexicon.VENUES:
            before = tokens[i - 1] if i > 0 else None
            if before is not None and before.is_word("on", "at", "via", "from", "in"):
                return token.text
    for token in tokens:
        if token.kind == "word" and token.text in lexicon.VENUES - {"hyperliquid", "uniswap"}:
            return token.text
    return None


def _other_quote(
    tokens: list[Token], coins: list[Coin], found: list[Quantity], vocabulary: Vocabulary
) -> str | None:
    """A quote other than the dollar: "in euros", ``BTC/EUR``, ``€90k``, or a pair the
    system does not price against another coin (``ETH/BTC``)."""
    for coin in coins:
        if coin.quote in FIAT_CODES:
            return coin.quote
        crypto = coin.quote is not None and coin.quote not in QUOTES
        if crypto and f"{coin.ticker}/{coin.quote}" not in vocabulary.pairs:
            return coin.quote
    for quantity in found:
        if quantity.currency in FIAT_CODES:
            return quantity.currency
    for i, token in enumerate(tokens[1:], 1):
        fiat = OTHER_QUOTES.get(token.raw.lower()) if token.kind in ("word", "sign") else None
        if fiat is not None and tokens[i - 1].is_word("in", "to", "into"):
            return fiat
    return None


_FOLLOWED = re.compile(
    r"\b(?:follow|track|stalk|subscribe\s+to|watch)\s+([A-Za-z0-9_]{2,15})(?![A-Za-z0-9_@.])",
    re.IGNORECASE,
)


HANDLE = re.compile(r"[A-Za-z0-9_]{2,15}")
"""An account's handle, as X allows it (without its @)."""


def _lone_name(text: str, vocabulary: Vocabulary) -> str | None:
    name = text.strip(" .!")
    return name if HANDLE.fullmatch(name) and _unknown(name, vocabulary) else None


def _unknown(name: str, vocabulary: Vocabulary) -> bool:
    """No word or coin of the vocabulary, nor an English word, spells `name`."""
    word = name.lower()
    return not (
        word in vocabulary.known or (word,) in vocabulary.names or vocabulary.is_english(word)
    )


_POSTING = re.compile(
    r"(?<![@\w])([A-Za-z0-9_]{2,15})\s+(?:posts|tweets|says|writes|mentions)\b", re.IGNORECASE
)


def _bare_handle(text: str, vocabulary: Vocabulary) -> str | None:
    """ "follow cz_binance", "track vitalikbuterin", "if cz_binance posts about bnb": an
    account's handle without its @ (a name no word or coin of the vocabulary, nor an
    English word, spells)."""
    if "@" in text:
        return None
    match = _FOLLOWED.search(text) or _POSTING.search(text)
    if match is None:
        return None
    name = match.group(1)
    if "_" in name or any(c.isdigit() for c in name):
        return name
    return name if _unknown(name, vocabulary) else None


def _question(tokens: list[Token]) -> bool:
    first = tokens[0] if tokens else None
    asks = frozenset({"what", "which", "where", "how", "is", "are", "do", "does", "can", "could",
                      "who", "when", "any", "anything", "will", "should", "would"})  # fmt: skip
    return any(t.kind == "mark" and t.text == "?" for t in tokens) or (
        first is not None and first.is_word(asks)
    )
