"""Which intent a message has, decided from the meanings of its words.

`RULES` is the order of the questions asked of a message (`reading.Reading`), each
with the draft request it makes: what it cannot do first (advice, trading), then
memory, changes to alerts, watches, listing, new alerts, research, statements about
oneself, prices, and last greetings and thanks (which yield to any request they come
with: "gm! btc price?" is a price). No rule matches a phrasing: each asks whether the
message holds words of a meaning, and which slots it mentions. The questions about
alerts are in `alert_asks`, those about what it knows of the user in `memory_asks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.offline import chain_frames, frames, lexicon
from agent.offline.alert_asks import (
    asks_for_alert,
    lists,
    manages,
    says_alerts,
    wants_to_know,
)
from agent.offline.alert_frames import alert_slots, keyword_of, post_alert_slots, quoted
from agent.offline.memory_asks import (
    forgets,
    forgets_everything,
    recalls,
    states_a_fact,
    told_to_remember,
)
from agent.offline.reading import Reading
from agent.offline.vocabulary import SymbolBook

OFFTOPIC = {"why": "offtopic"}


@dataclass
class Draft:
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    explicit: bool = True
    """Said with the intent's own words ("price", "alert", "show"); a bare coin or
    address is a price or a watch only for want of anything else."""


FUTURE = frozenset({"next", "year", "tomorrow", "month", "end", "future", "eoy", "soon"})


def _advice(r: Reading) -> bool:
    if r.says("should") and r.says("i", "we"):
        return True
    if _foretold(r):
        return True
    if r.says(lexicon.ADVICE):
        return True
    if r.says("will") and not asks_for_alert(r):
        return r.says("where") or (bool(r.coins) and r.says(FUTURE))
    return False


def _foretold(r: Reading) -> bool:
    """ "is pepe going to moon?", "gonna dump?": a prediction asked for."""
    words = [t.text for t in r.tokens if t.kind == "word"]
    futures = [i for i, w in enumerate(words[:-2]) if w == "going" and words[i + 1] == "to"]
    futures += [i - 1 for i, w in enumerate(words[:-1]) if w == "gonna"]
    moves = lexicon.RISE | lexicon.FALL | lexicon.MOVE | {"be", "hit", "reach", "moon"}
    return any(words[i + 2] in moves for i in futures if i + 2 < len(words))


MODALS = frozenset({"will", "can", "could", "would", "gonna", "might"})
HEIGHTS = frozenset({"high", "low", "far", "big"})
DREAMS = frozenset({"moon", "lambo", "ath", "mooning", "pump"})
REACHES = lexicon.RISE | lexicon.FALL | lexicon.MOVE | lexicon.REACH | {"be", "go", "get"}
REACHES -= {"at"}


def _predicts(r: Reading) -> bool:
    """ "is sol going to 500?", "will btc pump", "wen moon", "how high can eth go", "do
    you think eth will hit 5k": where a price will be, asked (never an alert's request).
    A modal counts next to its coin and a move ("will btc pump", "pepe will dump"), not
    in a request ("can you get me the btc price")."""
    if asks_for_alert(r) or r.says(lexicon.ALERT_NOUNS - {"one", "ones", "them", "it"}):
        return False
    in_coin = {i for c in r.coins for i in range(c.start, c.end)}
    at = [i for i, t in enumerate(r.tokens) if t.kind != "mark"]
    texts = ["COIN" if i in in_coin else r.tokens[i].text for i in at]
    texts = [t for n, t in enumerate(texts) if t != "COIN" or texts[n - 1 : n] != ["COIN"]]
    for i, text in enumerate(texts):
        after = texts[i + 1 : i + 4]
        if text == "going" and after[:1] == ["to"] and len(texts) > i + 2:
            nxt = r.tokens[at[i + 2]] if i + 2 < len(at) else None
            if texts[i + 2] in REACHES or (nxt is not None and nxt.kind == "number"):
                return True
        if text not in MODALS:
            continue
        before = texts[i - 1] if i else ""
        subject = after[:1] in (["COIN"], ["it"]) and set(after[1:3]) & REACHES
        said_before = before in ("COIN", "it") and after[:1] and after[0] in REACHES
        if subject or said_before:
            return True
    how = [i for i, text in enumerate(texts) if text == "how"]
    if any(set(texts[i + 1 : i + 2]) & HEIGHTS and set(texts[i + 2 : i + 5]) & MODALS for i in how):
        return True
    return r.says("when") and r.says(DREAMS - {"pump"}) and not r.quantities


def _trading(r: Reading) -> bool:
    if asks_for_alert(r) or states_a_fact(r) or _what_others_buy(r):
        return False
    if r.says(lexicon.TRADE) or _moves_funds(r):
        return True
    leveraged = any(q.kind == "multiple" for q in r.quantities)
    first = next((t for t in r.tokens if t.kind == "word"), None)
    imperative = first is not None and first.is_word("long", "short")
    for_me = r.says("for") and r.says("me")
    if r.says("long", "short") and (
        leveraged or imperative or for_me or r.says("open", "go", "position")
    ):
        return True
    return r.says("trade") and for_me


ASKERS = frozenset({"you", "to", "me", "u"})
"""What stands before a verb asked for: "can you send", "i want to send", "help me send"."""


def _moves_funds(r: Reading) -> bool:
    """ "send 0.5 eth to 0x…", "can you transfer 100 usdt to binance": funds moved by the
    agent (a sum or an address said), not a wallet that sends ("did 0x… send 10 eth")."""
    if not (r.addresses or r.kinds("amount")):
        return False
    said = [t for t in r.tokens if t.kind != "mark"]
    return any(
        token.is_word(lexicon.TRANSFER) and (i == 0 or said[i - 1].is_word(ASKERS))
        for i, token in enumerate(said)
    )


def _about_posts(r: Reading) -> bool:
    if r.handles or r.says(lexicon.SOCIAL) or r.says(lexicon.ENGAGEMENT - {"view"}):
        return True
    return r.says(lexicon.PEOPLE - {"whale", "account"}) and r.says("about", "mention")


SHILL = frozenset({"shill", "shilling", "shilled", "shills", "hyping", "pumping"})


def _what_others_buy(r: Reading) -> bool:
    """ "what's everyone aping into", "what are people buying", "wat coins r ppl shilling":
    what is trending."""
    pushed = r.says(lexicon.TRADE | SHILL)
    return r.question and r.says(lexicon.PEOPLE) and pushed and not r.coins


DERIVATIVES = frozenset(
    {"perp", "perps", "perpetual", "perpetuals", "futures", "liquidation", "liquidations",
     "liqs", "oi"}
)  # fmt: skip


def _derivatives(r: Reading) -> bool:
    """ "btc funding rate on perps", "eth open interest": data it does not have (spot
    prices only); "funding" reads as "fund", so it counts with "rate"."""
    funding = r.says("fund", "funding") and r.says("rate", "rates")
    return funding or r.says(DERIVATIVES) or (r.says("open") and r.says("interest"))


def _trending(r: Reading) -> bool:
    if r.says(lexicon.TRENDING) or _what_others_buy(r):
        return True
    plural = {t.raw.lower() for t in r.tokens} & {"coins", "tokens", "tickers", "mentions"}
    if r.says("top", "most") and (plural or r.says("mention", "talk")):
        return True
    return bool(plural) and not r.coins and r.says(lexicon.POSTS | lexicon.RISE | {"mention"})


WEAK_NEWS = frozenset({"find", "read", "learn", "info", "information", "story"})
"""News words that ask for the news only with "about" ("find out about restaking")."""


def _explains(r: Reading) -> bool:
    if r.says(lexicon.NEWS - WEAK_NEWS):
        return True
    if r.says(WEAK_NEWS | {"know"}) and r.says("about") and not r.says("me", "my"):
        return True
    first_two = [t.text for t in r.tokens[:2]]
    price_words = r.says(lexicon.PRICE) or r.says("at", "now", "today")
    talk = r.says(lexicon.POSTS)
    return first_two == ["what", "is"] and not price_words and not talk and len(r.tokens) > 2


def _asks_price(r: Reading) -> bool:
    return r.says(lexicon.PRICE) or (r.says("what", "where") and r.says("at"))


def cancels(r: Reading) -> bool:
    """ "never mind", "nope": the user drops what was asked."""
    if r.says("nevermind"):
        return True
    said = r.words - {"i", "it", "that", "this", "do", "want", "thanks", "wait", "actually"}
    return bool(said) and said <= lexicon.CANCEL


# -- the rules, in order ---------------------------------------------------------------------

Applies = Callable[[Reading], bool]
Drafts = Callable[[Reading, SymbolBook], Draft]


def _empty(r: Reading) -> bool:
    return not r.tokens


HELP_ALONE = lexicon.HELP | {"me", "the", "show", "list", "a", "what", "are", "your", "all"}
ASKED_OF = frozenset({"you", "u", "this", "thing", "bot", "it", "assistant", "agent", "exactly"})
"""Who "what can ... do" asks about: the agent itself."""
WHAT_KIND = frozenset({"kind", "kinds", "sort", "sorts", "type", "types"})


def _asks_help(r: Reading) -> bool:
    """ "help", "commands", "what can you do", "what can this thing do", "what kind of
    alerts can you set?"."""
    if r.says("help") or (r.words and r.words <= HELP_ALONE):
        return True
    able = r.says("what") and r.says("can") and r.says("do")
    if able and r.words <= HELP_ALONE | ASKED_OF | {"can", "do"}:
        return True
    what_kind = r.says(WHAT_KIND) and r.says("can", "do") and r.says("you")
    return what_kind and not r.coins and not r.quantities


FEATURES = {
    "alerts": lexicon.ALERT | lexicon.ALERT_NOUNS - {"one", "ones", "them", "it"},
    "watches": lexicon.WATCH | lexicon.WALLET,
    "posts": lexicon.SOCIAL | lexicon.POSTS,
    "memory": lexicon.REMEMBER | lexicon.FORGET | {"memory"},
}
"""What a how-to question may be about, each with its own help."""


def _feature(r: Reading) -> str | None:
    return next((name for name, said in FEATURES.items() if r.says(said)), None)


def _asks_how_to(r: Reading) -> bool:
    """ "how do I set up an alert?", "how can i watch a wallet": how to use a feature,
    not a request (no coin, no number, nothing to act on)."""
    first = next((t for t in r.tokens if t.kind == "word"), None)
    if first is None or not first.is_word("how") or r.coins or r.quantities or r.handles:
        return False
    return r.says("i", "you", "we", "to") and _feature(r) is not None


def _off_topic(r: Reading) -> bool:
    return r.says(lexicon.OFF_TOPIC) and not r.coins


def _about_a_wallet(r: Reading) -> bool:
    """An address, or a wallet watched; an account followed is a social account ("can
    you follow that account?"), not a wallet."""
    if r.addresses or r.bad_addresses:
        return True
    followed = r.says(lexicon.FOLLOW) and not r.says(lexicon.WALLET - {"account"})
    return r.says(lexicon.WATCH) and r.says(lexicon.WALLET) and not followed


WATCHLIST = frozenset({"watchlist", "watches", "watchlists", "watching", "following", "tracking"})


def _lists_watches(r: Reading) -> bool:
    """ "what am i watching?", "my watches", "show my watchlist", "which wallets do i
    track": the user's watches listed (not a new watch: nothing to watch is named)."""
    if r.addresses or r.bad_addresses or r.handles or r.coins or asks_for_alert(r):
        return False
    raw = {t.raw.lower().strip(".,!?") for t in r.tokens}
    if says_alerts(r):
        return False
    if raw & {"watchlist", "watchlists", "watches"} and (r.says("my") or r.says(lexicon.LIST)):
        return True
    words = [t for t in r.tokens if t.kind == "word"]
    asks = bool(words) and words[0].is_word("what", "which", "who")
    i_do = r.says("i") and bool(raw & (WATCHLIST | {"watch", "track", "follow"}))
    return asks and i_do


SOMEONE = frozenset({"guy", "account", "someone", "somebody", "person", "trader", "this", "them"})


def _follows(r: Reading) -> bool:
    someone = r.handles or r.bare_handle or r.says(SOMEONE)
    return bool(someone) and r.says(lexicon.FOLLOW | lexicon.WATCH) and not asks_for_alert(r)


def _about_talk(r: Reading) -> bool:
    """ "what's CT saying about SOL", "latest posts about $SOL", "mentions of pepe this
    week" (posts, not the news)."""
    talk = r.says(lexicon.POSTS) or (_says_mentions(r) and bool(r.coins))
    if not talk or not (r.coins or r.says(lexicon.PEOPLE)):
        return False
    return not _explains(r) or r.says("post", "tweet")


def _recent_posts(r: Reading) -> bool:
    """ "show me recent posts", "latest tweets": posts with no subject (the search needs a
    coin or keyword: asked for)."""
    if r.coins or r.handles or not r.says(lexicon.POSTS) or r.says("news", "headline"):
        return False
    listing = r.says(lexicon.LIST) or r.says("recent", "latest", "new", "newest", "show", "any")
    return listing and not asks_for_alert(r) and not _trending(r)


def _posts_by(r: Reading) -> bool:
    """ "show me posts from @someone": posts by one account (a search the tools lack)."""
    return bool(r.handles) and r.says(lexicon.POSTS) and not r.coins and not asks_for_alert(r)


def _posted_keyword(r: Reading) -> bool:
    """ "keep an eye on the keyword etf", "watch for the word etf", "track 'etf approval'":
    a post alert."""
    named = r.says("keyword", "word", "term", "phrase") or quoted(r.text) is not None
    return named and r.says(lexicon.WATCH, lexicon.ALERT, "notify")


MENTIONS = frozenset({"mention", "mentions", "mentioning", "mentioned"})


def _says_mentions(r: Reading) -> bool:
    return bool({t.raw.lower().strip(".,!?") for t in r.tokens} & MENTIONS) or r.says("mention")


def _watches_mentions(r: Reading) -> bool:
    """ "watch for mentions of airdrop", "anything mentioning restaking", "ping me when
    people talk about the merge": posts naming a keyword, watched (not which coins are
    talked about most, not posts searched now)."""
    said = r.says("talk", "talking", "say", "saying")
    talk = said and (r.says("about") or quoted(r.text) is not None)
    if not (_says_mentions(r) or talk) or r.says("top", "most", "which") or keyword_of(r) is None:
        return False
    asks = r.says(lexicon.WATCH, lexicon.ALERT, "notify", "tabs") or asks_for_alert(r)
    asks = asks or wants_to_know(r)  # "i wanna hear about any tweet saying 'airdrop'"
    asked = r.text.rstrip().endswith("?")
    anything = r.says("anything", "whenever", "everytime") and not asked
    return bool(asks or anything or (r.says(lexicon.TELL) and r.says(lexicon.WHEN)))


def _searches_mentions(r: Reading) -> bool:
    """ "any mentions of airdrop today?", "what are people saying about the airdrop":
    posts naming a keyword, searched now (watched: `_watches_mentions`; about a coin:
    `_about_talk`; which coins are talked about most: `_trending`)."""
    talk = r.says(lexicon.POSTS) and r.says("about")
    if not (_says_mentions(r) or talk) or r.coins or r.says("top", "most", "which"):
        return False
    return keyword_of(r) is not None


HOLDINGS = frozenset({"bag", "bags", "portfolio", "holding", "holdings", "stack", "position"})


def _asks_holdings(r: Reading) -> bool:
    """ "what's my bag worth", "how much is my portfolio": the user's holdings priced."""
    return r.says("my") and r.says(HOLDINGS) and not r.coins and not states_a_fact(r)


def _in_other_quote(r: Reading) -> bool:
    return r.other_quote is not None and bool(r.coins or r.says(lexicon.PRICE))


def _about_prices(r: Reading) -> bool:
    return bool(r.coins or r.says(lexicon.PRICE) or (r.unknown and r.question))


def _a_handle(r: Reading) -> bool:
    return bool(r.handles)


def _asks_how(r: Reading) -> bool:
    return r.says(lexicon.HELP) or (r.says("how") and r.says("work", "use"))


def _greets(r: Reading) -> bool:
    return r.says(lexicon.GREETING, "hello")


def _thanks(r: Reading) -> bool:
    return r.says(lexicon.THANKS) or bool(r.words and r.words <= lexicon.PRAISE)


def _other_quote(r: Reading) -> Draft:
    coin = r.coins[0].ticker if r.coins else None
    return Draft("unsupported", {"why": "quote", "quote": r.other_quote, "coin": coin})


def _alert(r: Reading, book: SymbolBook) -> Draft:
    if r.other_quote:
        return _other_quote(r)
    if _about_posts(r):
        return Draft("create_post_alert", post_alert_slots(r))
    slots = alert_slots(r, book)
    if slots.get("kind") == "volume" and "multiple" not in slots and r.kinds("amount"):
        return Draft("unsupported", {"why": "volume_amount", "symbol": slots.get("symbol")})
    return Draft("create_alert", slots)


def _changes(r: Reading, book: SymbolBook) -> Draft:
    return Draft(str(manages(r)), frames.selection_slots(r, book))


def _saying(intent: str, slots: dict[str, Any] | None = None, *, explicit: bool = True) -> Drafts:
    return lambda r, book: Draft(intent, dict(slots or {}), explicit=explicit)


RULES: tuple[tuple[Applies, Drafts], ...] = (
    (_empty, _saying("unsupported", OFFTOPIC, explicit=False)),
    (_asks_help, _saying("help")),
    (_asks_how_to, lambda r, book: Draft("help", {"feature": _feature(r)})),
    (_off_topic, _saying("unsupported", OFFTOPIC)),
    (_predicts, lambda r, book: Draft("unsupported", frames.prediction_slots(r, book))),
    (_advice, _saying("unsupported", {"why": "advice"})),
    (_trading, _saying("unsupported", {"why": "trading"})),
    (_derivatives, _saying("unsupported", {"why": "derivatives"})),
    (forgets_everything, _saying("forget_everything")),
    (forgets, lambda r, book: Draft("forget", frames.fact_slots(r))),
    (recalls, lambda r, book: Draft("recall_memory", frames.recall_slots(r))),
    (told_to_remember, lambda r, book: Draft("remember", frames.fact_slots(r))),
    (_lists_watches, _saying("list_watches")),
    (lambda r: manages(r) is not None, _changes),
    (
        lambda r: bool(r.addresses) and asks_for_alert(r),
        lambda r, book: Draft("create_wallet_alert", chain_frames.wallet_alert_slots(r)),
    ),
    (
        lambda r: chain_frames.asks_wallet_activity(r) and not r.says(lexicon.WATCH),
        lambda r, book: Draft("wallet_activity", chain_frames.activity_slots(r)),
    ),
    (
        _about_a_wallet,
        lambda r, book: Draft("watch_wallet", frames.wallet_slots(r), r.says(lexicon.WATCH)),
    ),
    (chain_frames.asks_fees, lambda r, book: Draft("fees_collected", frames.window_slots(r))),
    (_posts_by, lambda r, book: Draft("unsupported", {"why": "author", "handle": r.handles[0]})),
    (_follows, lambda r, book: Draft("follow_account", frames.account_slots(r))),
    (_posted_keyword, lambda r, book: Draft("create_post_alert", post_alert_slots(r))),
    (_watches_mentions, lambda r, book: Draft("create_post_alert", post_alert_slots(r))),
    (lists, lambda r, book: Draft("list_alerts", frames.list_slots(r, book))),
    (asks_for_alert, _alert),
    (_in_other_quote, lambda r, book: _other_quote(r)),
    (_searches_mentions, lambda r, book: Draft("search_posts", frames.keyword_slots(r))),
    (_trending, lambda r, book: Draft("trending_symbols", frames.window_slots(r))),
    (_about_talk, lambda r, book: Draft("search_posts", frames.posts_slots(r, book))),
    (_recent_posts, lambda r, book: Draft("search_posts", frames.posts_slots(r, book))),
    (_explains, lambda r, book: Draft("search_knowledge", frames.knowledge_slots(r))),
    (states_a_fact, lambda r, book: Draft("remember", frames.fact_slots(r))),
    (_asks_holdings, _saying("holdings")),
    (
        _about_prices,
        lambda r, book: Draft("get_price", frames.price_slots(r, book), _asks_price(r)),
    ),
    (_a_handle, lambda r, book: Draft("follow_account", frames.account_slots(r), False)),
    (_asks_how, _saying("help")),
    (_greets, _saying("greeting")),
    (_thanks, _saying("thanks")),
)


def intent_of(r: Reading, book: SymbolBook) -> Draft:
    """The first rule that applies makes the draft; none: what it cannot do."""
    for applies, draft in RULES:
        if applies(r):
            return draft(r, book)
    return Draft("unsupported", dict(OFFTOPIC), explicit=False)
