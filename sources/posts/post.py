"""Turning a scraped post into an event whose id is the post itself.

The id is a UUIDv5 of (source, post id): scraping a post again, after a restart or a
cursor that was not saved, or importing a file twice produces the same id, and the store
keeps the first copy only.

Cashtags are the ``$TICKER`` tags of the text, kept as capitals without the ``$``
(``$sol`` -> ``SOL``). Symbols are what the rest of the system prices: every
``BASE/QUOTE`` pair written out in the text, and ``TICKER/USDT`` for every cashtag, since
USDT is the quote the price sources follow by default. So ``GET /v1/posts?symbol=SOL/USDT``
finds a post that says ``$SOL`` without a lookup table to keep up to date.
"""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from events.catalog import PostScraped
from events.envelope import Event
from sources.tick import is_symbol

POST_ID_NAMESPACE = UUID("6f2d1c3e-8a4b-4c5d-9e7f-0a1b2c3d4e5f")
"""Fixed forever: changing it would let every source duplicate what it wrote before."""

CASHTAG_QUOTE = "USDT"
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,14})\b")
_PAIR = re.compile(r"(?<![\w/])([A-Z][A-Z0-9]{1,14})/([A-Z][A-Z0-9]{1,9})\b")


def post_event_id(source: str, post_id: str) -> UUID:
    """The idempotency key of one post, the same in every process and release."""
    return uuid5(POST_ID_NAMESPACE, f"{source}|{post_id}")


def post_event(post: PostScraped) -> Event:
    """The `post.scraped` event of `post`, keyed source:author, occurring when it was posted."""
    return Event(
        event_id=post_event_id(post.source, post.post_id),
        key=post.partition_key(),
        occurred_at=post.created_at,
        payload=post,
    )


def cashtags_in(text: str) -> tuple[str, ...]:
    """The distinct cashtags of `text`, in capitals without ``$``, in order of appearance."""
    return tuple(dict.fromkeys(match.upper() for match in _CASHTAG.findall(text)))


def symbols_in(text: str) -> tuple[str, ...]:
    """The symbols `text` is about: pairs written out, then ``TICKER/USDT`` per cashtag."""
    pairs = [f"{base}/{quote}" for base, quote in _PAIR.findall(text)]
    tagged = [f"{tag}/{CASHTAG_QUOTE}" for tag in cashtags_in(text)]
    return tuple(symbol for symbol in dict.fromkeys([*pairs, *tagged]) if is_symbol(symbol))
