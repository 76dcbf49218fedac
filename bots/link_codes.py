"""One-time linking codes: how a chat identity proves whose Impressox account it is.

A signed-in user asks the API for a code (``POST /v1/link-codes``) and sends ``/link
CODE`` to a bot. The code is 8 characters from an alphabet without look-alikes (40 bits:
guessing one of the few live codes before it expires is hopeless), kept only as its
SHA-256 in Redis with an expiry, and redeemed with GETDEL: used once, by whoever sends
it first, never readable from Redis.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from bots.keys import link_code_key
from events.names import StreamNames
from events.redis_client import RedisClient

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a code read off a screen is typed right."""
CODE_LENGTH = 8
CODE_TTL_S = 600


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


class LinkCodes:
    def __init__(self, redis: RedisClient, names: StreamNames, ttl_s: int = CODE_TTL_S) -> None:
        self._redis = redis
        self._names = names
        self._ttl_s = ttl_s

    async def issue(self, user_id: UUID) -> IssuedCode:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        await self._redis.set(self._key(code), str(user_id), ex=self._ttl_s)
        return IssuedCode(code, datetime.now(UTC) + timedelta(seconds=self._ttl_s))

    async def redeem(self, code: str) -> UUID | None:
        """The user the code was issued to, once; None if unknown, used or expired."""
        normalised = code.strip().upper()
        if len(normalised) != CODE_LENGTH or set(normalised) - set(ALPHABET):
            return None
        found = await self._redis.getdel(self._key(normalised))
        return UUID(found.decode() if isinstance(found, bytes) else str(found)) if found else None

    def _key(self, code: str) -> str:
        return link_code_key(self._names, hashlib.sha256(code.encode()).hexdigest())
