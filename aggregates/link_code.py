"""A one-time linking code: how a chat identity proves whose Impressox account it is.

A signed-in user asks the API for a code and sends ``/link CODE`` to a bot. Only the
code's SHA-256 is recorded (the aggregate's id is derived from it, so the bot finds the
code by what the user typed and nothing can read the code back). A code is redeemed at
most once, before it expires: two bots redeeming it at the same moment both load
version 1, and optimistic concurrency lets one of them save.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from aggregates.errors import DomainError
from aggregates.model import Aggregate, register_aggregate

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a code read off a screen is typed right."""
CODE_LENGTH = 8
"""40 bits: guessing one of the few live codes before it expires is hopeless."""

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/link-code")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(code: str) -> str | None:
    """The hash a code is known by; None if it cannot be a code (no lookup needed)."""
    normalised = code.strip().upper()
    if len(normalised) != CODE_LENGTH or set(normalised) - set(ALPHABET):
        return None
    return hashlib.sha256(normalised.encode()).hexdigest()


class LinkCode(Aggregate):
    @staticmethod
    def create_id(code_hash: str, user_id: UUID, expires_at: datetime) -> UUID:
        return link_code_id(code_hash)

    @event("Issued")
    def __init__(self, code_hash: str, user_id: UUID, expires_at: datetime) -> None:
        self.code_hash = code_hash
        self.user_id = user_id
        self.expires_at = expires_at
        self.redeemed_at: datetime | None = None

    def redeem(self, at: datetime) -> UUID:
        """The user the code was issued to; refused once used or expired."""
        if self.redeemed_at is not None:
            raise DomainError("this code was used already")
        if at >= self.expires_at:
            raise DomainError("this code has expired")
        self._redeemed(at)
        return self.user_id

    @event("Redeemed")
    def _redeemed(self, at: datetime) -> None:
        self.redeemed_at = at


def link_code_id(code_hash: str) -> UUID:
    return uuid5(_NAMESPACE, code_hash)


register_aggregate(LinkCode, "link_code")
