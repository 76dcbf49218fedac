"""The bots' commands, as the chat message the agent reads.

``/price ETH`` on Telegram or Discord is recorded as the message "price of ETH": the
agent understands it with the same intents and answers it with the same tools as a
message typed by hand, so a command has no second implementation to drift from the
chat. What is not a question for the agent (linking, help, notifications on or off) is
answered by the bot itself.
"""

from __future__ import annotations

MAX_TEXT = 4000
"""Longest message a bot records (Discord's longest, Telegram's is 4096): a longer one is
refused with a clear answer, never cut silently."""


def price(symbol: str) -> str:
    return f"price of {symbol.strip()}"


def alert(condition: str) -> str:
    return f"alert me when {condition.strip()}"


ALERTS = "list my alerts"


def pause(which: str) -> str:
    return f"pause alert {which.strip() or 'all'}"


def resume(which: str) -> str:
    return f"resume alert {which.strip() or 'all'}"


def too_long(length: int) -> str:
    return (
        f"That message is {length} characters long; I read at most {MAX_TEXT}."
        " Please send it shorter. Nothing was recorded."
    )


LINK_USAGE = (
    "Send /link CODE with a code from your Impressox account (web page: Account, or"
    " POST /v1/link-codes) to use your account here, or /link alone to get an account"
    " of your own."
)
LINKED = "Linked: this chat now talks to your Impressox account (your alerts, rules and memory)."
BAD_CODE = "That code is unknown, used or expired. Ask for a new one and send /link CODE."
CREATED = "You have an Impressox account of your own now. Ask me anything, e.g. 'price of ETH'."


def unlinked(where: str) -> str:
    return f"Hi! {where} is not linked to an Impressox account yet. {LINK_USAGE}"
