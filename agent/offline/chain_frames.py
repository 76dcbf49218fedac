"""What the offline model hears about chains: a wallet's activity, a wallet alert, fees.

- "what did 0x… do today" -> `wallet_activity` (the window from "today", "this week").
- "alert me when 0x… sends more than 10 ETH" -> `create_wallet_alert`: ``out`` for
  sending words, ``in`` for receiving ones, ``either`` for both ("in or out"), the first
  amount as the minimum, the first
  coin (or dollar stablecoin) as the token.
- "fees collected by the router this week" -> `fees_collected`.
"""

from __future__ import annotations

from typing import Any

from agent.offline import lexicon
from agent.offline.frames import window_slots
from agent.offline.reading import Reading

Slots = dict[str, Any]
Calls = list[tuple[str, dict[str, Any]]]

ACTIVITY = frozenset(
    {"do", "did", "done", "doing", "activity", "happened", "moved", "moves", "transactions",
     "txs", "history", "up"}
)  # fmt: skip
SEND = frozenset({"send", "sends", "sent", "sending", "transfer", "transfers", "moves", "out"})
RECEIVE = frozenset({"receive", "receives", "received", "gets", "get", "in", "incoming"})
TRANSFERS = (SEND | RECEIVE) - {"in", "out", "get", "gets", "moves"}
"""Verbs only a wallet does ("it sends", "it receives"), never a coin."""
STABLECOINS = frozenset({"usdc", "usdt", "dai"})
"""Tokens a wallet moves that are no coin of the market (not priced against USDT)."""
FEES = frozenset({"fee", "fees"})
COLLECTED = frozenset({"collected", "collect", "router", "earned", "made", "took", "taken"})


def asks_wallet_activity(r: Reading) -> bool:
    """ "what did 0x… do today", "has 0x… moved anything in the past 3 days??" (a move
    asked about, not one to alert on)."""
    return bool(r.addresses) and (r.says(ACTIVITY) or (r.question and r.says("move")))


def asks_fees(r: Reading) -> bool:
    """ "fees collected this week", "fees last 30d?", "fees?": the router's fees; not an
    exchange's or a chain's ("binance fees", "eth gas fees")."""
    if not r.says(FEES):
        return False
    if r.says(COLLECTED):
        return True
    return not r.coins and r.venue is None and not r.says(lexicon.VENUES | {"gas", "trading"})


def activity_slots(r: Reading) -> Slots:
    slots: Slots = {"address": r.addresses[0]} if r.addresses else {}
    return slots | window_slots(r)


def activity_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "address" not in slots:
        return [], ["address"]
    return [("wallet_activity", slots)], []


def wallet_alert_slots(r: Reading) -> Slots:
    slots: Slots = {"address": r.addresses[0]} if r.addresses else {}
    direction = _direction(r)
    if direction is not None:
        slots["direction"] = direction
    amounts = r.kinds("amount")
    if amounts:
        slots["min_amount"] = amounts[0].value
    if r.coins:
        slots["token"] = r.coins[0].ticker
    else:
        stable = sorted(STABLECOINS & r.words)
        if stable:
            slots["token"] = stable[0].upper()
    return slots


BOTH_WAYS = frozenset({"or", "and", "/", "either", "both"})


def _direction(r: Reading) -> str | None:
    """ "out" for sending words, "in" for receiving ones; "either" when both ways are
    said ("in or out", "sends or receives", "in/out")."""
    said = [t.text for t in r.tokens if t.kind in ("word", "mark")]
    joined = any(
        {first, last} == {"in", "out"} and link in BOTH_WAYS
        for first, link, last in zip(said, said[1:], said[2:], strict=False)
    )
    if joined or (r.says(SEND - {"out"}) and r.says(RECEIVE - {"in", "get", "gets"})):
        return "either"
    if r.says(SEND):
        return "out"
    return "in" if r.says(RECEIVE) else None


def wallet_alert_call(slots: Slots) -> tuple[Calls, list[str]]:
    if "address" not in slots:
        return [], ["address"]
    return [("create_wallet_alert", slots)], []


def fees_call(slots: Slots) -> tuple[Calls, list[str]]:
    return [("fees_collected", slots)], []
