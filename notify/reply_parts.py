"""An agent's reply as chat messages: split to each platform's length limit, escaped.

A reply longer than one message is cut where a reader would pause: between paragraphs
if it can be, else between lines, else between words, and only as a last resort inside a
word. Each part is cut from the plain text and escaped afterwards, so an entity such as
``&amp;`` is never split; the limit is checked on the escaped part, since escaping
lengthens text unevenly.

- Telegram: 4096 characters, HTML parse mode; ``&``, ``<`` and ``>`` become entities,
  so whatever the agent quotes is shown as written and never formats anything.
- Discord: 2000 characters of content, markdown left as the agent wrote it (models
  format in markdown, which Discord renders); ``allowed_mentions`` is empty, so a
  quoted ``@everyone`` pings no one.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000
SEPARATORS = ("\n\n", "\n", " ")
"""Where to cut, best first."""

Measure = Callable[[str], int]


def telegram_parts(text: str) -> list[str]:
    """The reply as Telegram messages, plain: each fits once escaped (`escape_telegram`)."""
    return split_text(text, TELEGRAM_LIMIT, _telegram_len)


def escape_telegram(text: str) -> str:
    """Plain text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def discord_bodies(text: str, *, answering: str | None = None) -> list[dict[str, Any]]:
    """The reply as Discord message bodies; the first one a reply to the message
    `answering` names, if any (shown as a reply; sent anyway if that message is gone)."""
    bodies: list[dict[str, Any]] = [
        {"content": part, "allowed_mentions": {"parse": []}}
        for part in split_text(text, DISCORD_LIMIT)
    ]
    if bodies and answering is not None:
        bodies[0]["message_reference"] = {"message_id": answering, "fail_if_not_exists": False}
    return bodies


def discord_message_of(turn_id: str) -> str | None:
    """The Discord message a conversation turn id names (``dc:<channel>:<message>``, as
    `bots.discord_bot` records them), or None (a slash command, another platform)."""
    platform, _, rest = turn_id.partition(":")
    _, _, message = rest.partition(":")
    return message if platform == "dc" and message.isdigit() else None


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """`text` in parts of at most `limit` (as `measure` counts), cut at the best boundary
    each part allows; blank parts are dropped, so an empty text has no parts."""
    if limit < 1:
        raise ValueError(f"a message limit is at least 1, not {limit}")
    parts = _split(text.strip(), limit, measure, SEPARATORS)
    return [part.strip() for part in parts if part.strip()]


def _split(text: str, limit: int, measure: Measure, separators: tuple[str, ...]) -> list[str]:
    if measure(text) <= limit:
        return [text]
    if not separators:
        return _cut(text, limit, measure)
    separator, finer = separators[0], separators[1:]
    parts: list[str] = []
    current = ""
    for piece in text.split(separator):
        joined = f"{current}{separator}{piece}" if current else piece
        if measure(joined) <= limit:
            current = joined
            continue
        if current:
            parts.append(current)
        pieces = _split(piece, limit, measure, finer)
        parts.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        parts.append(current)
    return parts


def _cut(text: str, limit: int, measure: Measure) -> list[str]:
    """Cut anywhere: each part the longest prefix that fits (found by bisection)."""
    parts = []
    while text:
        low, high = 1, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if measure(text[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        parts.append(text[:low])
        text = text[low:]
    return parts


def _telegram_len(text: str) -> int:
    return len(escape_telegram(text))
