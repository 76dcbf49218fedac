"""Ask, don't fail: the question for what a request misses, and the state kept for it.

A request with its intent but a slot missing or ambiguous ("alert me at 300": which
coin, above or below?) is never guessed and never refused: the model asks for exactly
what is missing and keeps what it has as a `Pending` request. The turn records that
state on the Conversation (`conversation.clarification_asked`, see `marks`), so it
survives a restart; the next message is read as the answer first (`understanding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.numbers import figure


@dataclass(frozen=True)
class Pending:
    """A request waiting for the slots the user has not said yet."""

    intent: str
    slots: dict[str, Any]
    missing: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "slots": self.slots, "missing": list(self.missing)}

    @classmethod
    def from_dict(cls, data: Any) -> Pending | None:
        """The pending request `data` holds, or None when it holds none (or not one
        of this model's: another model's reply may carry anything)."""
        if not isinstance(data, dict):
            return None
        intent, slots, missing = data.get("intent"), data.get("slots"), data.get("missing")
        if not isinstance(intent, str) or not isinstance(slots, dict):
            return None
        if not isinstance(missing, list):
            return None
        return cls(intent, slots, tuple(str(name) for name in missing))


VERBS = {"pause_alert": "pause", "resume_alert": "resume", "delete_alert": "delete"}
Slots = dict[str, Any]


def question(pending: Pending, examples: list[str]) -> str:
    """The question that asks for what `pending` misses."""
    if pending.intent == "create_alert":
        return _alert_question(pending.slots, set(pending.missing))
    if pending.intent in VERBS:
        return (
            f"Which alert should I {VERBS[pending.intent]}: its number in your list, a coin"
            ' (e.g. "my ETH alerts"), or all of them?'
        )
    if pending.intent == "get_price":
        return _price_question(pending.slots, examples)
    if pending.intent in ("watch_wallet", "wallet_activity", "create_wallet_alert"):
        return _wallet_question(pending.slots)
    return QUESTIONS.get(pending.intent, "What should I remember?")


QUESTIONS = {
    "create_post_alert": 'Posts about which coin or word, or by which account? (e.g. "$SOL"'
    ' or "@whale_alert")',
    "search_posts": 'What people say about which coin? (e.g. "SOL")',
    "follow_account": "Which account should I follow? Send its @handle.",
    "search_knowledge": "What should I look up?",
    "forget": "What should I forget?",
}


def _price_question(slots: Slots, examples: list[str]) -> str:
    coins = ", ".join(examples)
    if slots.get("unknown"):
        return (
            f'I don\'t know "{slots["unknown"]}". Which coin do you mean? I have prices for'
            f" {coins}…"
        )
    return f"The price of which coin? (e.g. {coins})"


def _wallet_question(slots: Slots) -> str:
    if slots.get("bad_address"):
        return (
            f'"{slots["bad_address"]}" is not a wallet address: that is 0x followed by 40'
            " hex characters. Which wallet should I watch?"
        )
    return "Which wallet should I watch? Send its address (0x followed by 40 hex characters)."


def _alert_question(slots: Slots, missing: set[str]) -> str:
    if "condition" in missing:
        return _what_to_watch(slots.get("symbol"))
    if "side" in missing and "level" in slots:
        return _which_side(slots, missing)
    if "level" in missing:
        return _which_level(slots)
    subject = slots.get("symbol") or "it"
    if "size" in missing:
        verb = {"up": "rise", "down": "drop"}.get(slots.get("direction", ""), "move")
        return f'By how much should {subject} {verb}, and within what time? (e.g. "5% in an hour")'
    if "multiple" in missing:
        return f'How many times its usual volume should {subject} trade? (e.g. "3x")'
    return "Which coin should the alert watch? (e.g. BTC, ETH, SOL)"


def _which_level(slots: Slots) -> str:
    side = str(slots.get("side", "above")).replace("crosses_", "crossing ")
    where = f" for {slots['symbol']}" if slots.get("symbol") else ""
    asked = f"{side.capitalize()} which price{where}?"
    if "bad_level" in slots:
        said = figure(slots["bad_level"])
        return f"Prices are above zero, so an alert {side} {said} could never work. {asked}"
    return asked


def _what_to_watch(symbol: str | None) -> str:
    if symbol:
        return (
            f'What should I watch on {symbol}: a price level (e.g. "above 100k") or a move'
            ' (e.g. "drops 5% in an hour")?'
        )
    return (
        'What should the alert watch? For example "BTC above 100k", "ETH drops 5% in an'
        ' hour", or "posts mentioning SOL".'
    )


def _which_side(slots: Slots, missing: set[str]) -> str:
    level = figure(slots["level"])
    if slots.get("side") == "cross":
        return f"Crossing {level} going up or going down?"
    if "symbol" in missing:
        return f'Above or below {level}, and for which coin? (e.g. "SOL above")'
    return f"{slots['symbol']} above or below {level}?"
