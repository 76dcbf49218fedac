"""What a message asks for: an intent, its slots, and the decision made of them.

`Understanding.decide` reads a message (`reading`), picks its intent from the meanings
of its words (`_intent`: never from a list of phrasings), reads the intent's slots
(`frames`, `alert_frames`), and decides:

- the tool calls the slots make, when nothing is missing;
- a question for what is missing, with the request kept as `Pending`;
- a reply without a tool: a greeting, thanks, help, or what it cannot do.

A message that answers a pending question fills its slots; one that clearly asks for
something else starts afresh; "never mind" drops it.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.offline import chain_frames, frames, replies
from agent.offline.alert_frames import (
    alert_call,
    alert_slots,
    merged,
    post_alert_call,
    post_alert_slots,
)
from agent.offline.clarification import Pending, question
from agent.offline.intents import Draft, cancels, intent_of
from agent.offline.reading import Reading, read
from agent.offline.vocabulary import SymbolBook, Vocabulary

Calls = tuple[tuple[str, dict[str, Any]], ...]
REPLIES = ("greeting", "thanks", "help", "unsupported", "holdings")
RECENT_DECISIONS = 32


@dataclass(frozen=True)
class Decision:
    label: str
    """The intent: a tool's name, or greeting, thanks, help, unsupported, clarify,
    cancelled (what the evaluation compares)."""
    calls: Calls = ()
    text: str = ""
    pending: Pending | None = None


class Understanding:
    """Decides with the vocabulary of `book` (rebuilt when the book grows)."""

    def __init__(self, book: SymbolBook) -> None:
        self.book = book
        self._vocabulary = Vocabulary(book)
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[Any, ...], Decision] = OrderedDict()
        """The last decisions: the router and then the specialist ask about one message."""

    def vocabulary(self) -> Vocabulary:
        with self._lock:
            if self._vocabulary.version != self.book.version:
                self._vocabulary = Vocabulary(self.book)
            return self._vocabulary

    def decide(
        self,
        text: str,
        pending: Pending | None = None,
        now: datetime | None = None,
        earlier: str | None = None,
    ) -> Decision:
        """What `text` asks for (answering `pending`, if given), as of `now`; "it" is
        the coin or the wallet of the user's `earlier` message ("price of sol" ...
        "alert me if it dumps 10%"; "track 0x…" ... "alert me if it sends 1m usdt")."""
        now = now or datetime.now(UTC)
        asked = json.dumps(pending.as_dict(), sort_keys=True) if pending else None
        key = (text, asked, earlier, now.replace(second=0, microsecond=0), self.book.version)
        with self._lock:
            if key in self._recent:
                return self._recent[key]
        decision = self._decide(text, pending, now, earlier)
        with self._lock:
            self._recent[key] = decision
            while len(self._recent) > RECENT_DECISIONS:
                self._recent.popitem(last=False)
        return decision

    def _decide(
        self, text: str, pending: Pending | None, now: datetime, earlier: str | None
    ) -> Decision:
        reading = read(text, self.vocabulary(), now)
        if earlier:
            self._refer_back(reading, earlier, now)
        if pending is None or pending.intent not in SLOTS:
            return self._afresh(text, reading, now, earlier)
        if cancels(reading):
            return Decision("cancelled", text=replies.CANCELLED)
        alone = intent_of(reading, self.book)
        answer = SLOTS[pending.intent](reading, self.book)
        if alone.explicit and alone.intent != pending.intent:
            instead = self._finish(alone)
            if instead.calls or not answer:  # a whole new request, or nothing for this one
                return instead
        if answer:
            slots = merged(pending.slots, answer) if pending.intent == "create_alert" else None
            return self._finish(Draft(pending.intent, slots or pending.slots | answer))
        if alone.explicit:
            return self._finish(alone)
        return self._finish(Draft(pending.intent, pending.slots))

    def _refer_back(self, reading: Reading, earlier: str, now: datetime) -> None:
        """ "it" and "he" are what the `earlier` message named: its coin or wallet, the
        account it named; that message is read only when one of them is said."""
        it = reading.says("it", "its") and not reading.addresses
        someone = reading.says(SOMEONE_SAID) and not reading.handles
        if not (it or someone):
            return
        before = read(earlier, self.vocabulary(), now)
        if it:
            if not reading.coins or reading.says(chain_frames.TRANSFERS):
                reading.addresses = before.addresses[:1]  # "it" is a wallet that sends
            reading.coins = reading.coins or before.coins[:1]
        if someone:
            named = [before.bare_handle] if before.bare_handle else []
            reading.handles = before.handles[:1] or named

    def _afresh(self, text: str, reading: Reading, now: datetime, earlier: str | None) -> Decision:
        """A message read on its own: one request, several alerts, or a window said
        about the alert just made."""
        decision = self._finish(intent_of(reading, self.book))
        if earlier and reading.coins and reading.says(SAME):
            return self._same_again(reading, earlier, now) or decision
        if decision.label == "create_alert" and SEVERAL.search(text):
            return self._several_alerts(text, now) or decision
        if decision.label == "unsupported" and earlier and _only_a_window(reading):
            return self._window_after(reading, earlier, now) or decision
        return decision

    def _several_alerts(self, text: str, now: datetime) -> Decision | None:
        """ "btc above 100k and below 90k": an alert per part, when every part makes one
        (a part without a coin is about the coin before it)."""
        calls: list[tuple[str, dict[str, Any]]] = []
        coin = None
        for part in SEVERAL.split(text):
            reading = read(part, self.vocabulary(), now)
            if not reading.coins and coin is not None:
                reading = read(f"{coin} {part}", self.vocabulary(), now)
            if reading.coins:
                coin = reading.coins[0].ticker
            decision = self._finish(intent_of(reading, self.book))
            if decision.label != "create_alert":
                return None
            calls += decision.calls
        if len(calls) < 2:
            return None
        return Decision("create_alert", calls=tuple(calls))

    def _same_again(self, reading: Reading, earlier: str, now: datetime) -> Decision | None:
        """ "same for eth at 5k", "do the same for dot" right after one request about a
        coin: that request again, for this coin (and at this level, if one is said)."""
        made = self.decide(earlier, now=now)
        if len(made.calls) != 1 or "symbol" not in made.calls[0][1]:
            return None
        tool, arguments = made.calls[0]
        coin = reading.coins[0]
        again = arguments | {"symbol": self.book.pair(coin.ticker, coin.quote)}
        levels = reading.kinds("amount")
        if levels and "threshold" in arguments:
            again["threshold"] = levels[0].value
        return Decision(tool, calls=((tool, again),))

    def _window_after(self, reading: Reading, earlier: str, now: datetime) -> Decision | None:
        """ "within an hour" said right after an alert was made: about that alert; "and
        over the last 30 days?" after a read over a window: that read over this one."""
        made = self.decide(earlier, now=now)
        said = frames.window_slots(reading).get("window_s")
        if said is None or len(made.calls) != 1:
            return None
        tool, arguments = made.calls[0]
        if tool in WINDOWED_READS:
            return Decision(tool, calls=((tool, arguments | {"window_s": said}),))
        if made.label != "create_alert" or "window_s" not in arguments:
            return None
        note = replies.window_note(int(arguments["window_s"]), int(said))
        return Decision("unsupported", text=note)

    def _finish(self, draft: Draft) -> Decision:
        if draft.intent in REPLIES:
            return Decision(draft.intent, text=_reply(draft, self.book.examples()))
        calls, missing = CALLS[draft.intent](draft.slots)
        if missing:
            pending = Pending(draft.intent, draft.slots, tuple(missing))
            return Decision(
                "clarify", text=question(pending, self.book.examples()), pending=pending
            )
        return Decision(calls[0][0], calls=tuple(calls))


SEVERAL = re.compile(r"\s*(?:;|\band\b|\balso\b|,\s*(?=[a-z$]))\s*", re.IGNORECASE)
"""Where a message asking for several alerts may be cut into one request each."""
WINDOW_WORDS = frozenset(
    {"within", "in", "over", "an", "a", "the", "one", "hour", "next", "last", "and", "what",
     "about"}
)  # fmt: skip
WINDOWED_READS = frozenset(
    {"fees_collected", "wallet_activity", "trending_symbols", "search_posts", "search_knowledge"}
)
"""Reads over a time span, which a window said next asks again over that span."""
SAME = frozenset({"same", "ditto", "likewise"})
SOMEONE_SAID = frozenset({"he", "she", "they", "him", "her", "his", "their"})
"""Who an account just named is, next ("follow cobie" ... "ping me when he mentions $ENA")."""


def _only_a_window(reading: Reading) -> bool:
    """A message that says a time span and nothing to act on ("within an hour", "what
    about this week?")."""
    spans = [(q.start, q.end) for q in reading.kinds("duration")]
    if reading.period is not None:
        spans.append((reading.period.start, reading.period.end))
    inside = {i for start, end in spans for i in range(start, end)}
    rest = [t for i, t in enumerate(reading.tokens) if i not in inside and t.kind != "mark"]
    return bool(spans) and not reading.coins and all(t.is_word(WINDOW_WORDS) for t in rest)


def _reply(draft: Draft, examples: list[str]) -> str:
    if draft.intent == "greeting":
        return replies.GREETING
    if draft.intent == "thanks":
        return replies.THANKS
    if draft.intent == "help":
        return replies.feature_help(draft.slots.get("feature"))
    if draft.intent == "holdings":
        return replies.HOLDINGS_UNKNOWN
    return _cannot(draft.slots, examples)


def _cannot(slots: dict[str, Any], examples: list[str]) -> str:
    """What it cannot do, said plainly with what it can do instead."""
    why = slots.get("why", "offtopic")
    if why == "quote":
        return replies.other_quote(str(slots["quote"]), examples, slots.get("coin"))
    if why == "volume_amount":
        coin = str(slots.get("symbol") or "BTC").split("/")[0]
        return replies.VOLUME_AMOUNT.format(coin=coin)
    if why == "prediction":
        return replies.prediction(slots.get("coin"), slots.get("level"))
    if why == "author":
        return replies.AUTHOR.format(handle=slots["handle"])
    return replies.UNSUPPORTED[why]


Finisher = Callable[[dict[str, Any]], tuple[Any, list[str]]]


def _calls(made: tuple[dict[str, Any] | None, list[str]], tool: str) -> tuple[list[Any], list[str]]:
    arguments, missing = made
    return ([(tool, arguments)] if arguments is not None else []), missing


SLOTS: dict[str, Callable[[Reading, SymbolBook], dict[str, Any]]] = {
    "get_price": frames.price_slots,
    "create_alert": alert_slots,
    "create_post_alert": lambda r, book: post_alert_slots(r),
    "pause_alert": frames.selection_slots,
    "resume_alert": frames.selection_slots,
    "delete_alert": frames.selection_slots,
    "search_posts": frames.posts_slots,
    "watch_wallet": lambda r, book: frames.wallet_slots(r),
    "follow_account": lambda r, book: frames.account_answer_slots(r),
    "wallet_activity": lambda r, book: chain_frames.activity_slots(r),
    "create_wallet_alert": lambda r, book: chain_frames.wallet_alert_slots(r),
}
"""The slots an answer can fill, per intent that can be pending."""

CALLS: dict[str, Finisher] = {
    "get_price": frames.price_call,
    "create_alert": lambda slots: _calls(alert_call(slots), "create_alert"),
    "create_post_alert": lambda slots: _calls(post_alert_call(slots), "create_post_alert"),
    "list_alerts": lambda slots: ([("list_alerts", slots)], []),
    "pause_alert": lambda slots: frames.selection_call("pause_alert", slots),
    "resume_alert": lambda slots: frames.selection_call("resume_alert", slots),
    "delete_alert": lambda slots: frames.selection_call("delete_alert", slots),
    "search_posts": frames.posts_call,
    "search_knowledge": frames.knowledge_call,
    "trending_symbols": lambda slots: ([("trending_symbols", slots)], []),
    "watch_wallet": frames.wallet_call,
    "follow_account": frames.account_call,
    "remember": frames.remember_call,
    "recall_memory": lambda slots: ([("recall_memory", slots)], []),
    "list_watches": lambda slots: ([("list_watches", {})], []),
    "forget_everything": lambda slots: ([("forget_everything", {})], []),
    "forget": frames.forget_call,
    "wallet_activity": chain_frames.activity_call,
    "create_wallet_alert": chain_frames.wallet_alert_call,
    "fees_collected": chain_frames.fees_call,
}
