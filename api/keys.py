"""Finding the API key a request presents: by key id in the key table (Redis).

Only a key's hash is ever stored. A found key is trusted for `cache_s` seconds, so the
hot path costs no round trip; a revocation this process reads in the users' log
(`api.key_log`) drops the key from the cache at once, so `cache_s` only bounds how
long a revocation takes when that log cannot be read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from aggregates.errors import InvalidCommandError
from aggregates.secrets import api_key_matches, split_api_key
from api.key_table import KeyTable


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's owner and what the key may do."""

    user_id: UUID
    key_id: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def may_see(self, user_id: UUID | str) -> bool:
        """Users see their own data; admins see everyone's."""
        return self.is_admin or str(self.user_id) == str(user_id)


class KeyAuthenticator:
    def __init__(self, table: KeyTable, *, cache_s: float) -> None:
        self.table = table
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, str, Principal]] = {}
        self._revocations = 0
        """Counts `forget` calls: a lookup that a revocation overtook is not cached."""

    async def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        try:
            key_id, _ = split_api_key(token)
        except InvalidCommandError:
            return None
        cached = self._cache.get(key_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.cache_s:
            _, key_hash, principal = cached
            return principal if api_key_matches(token, key_hash) else None
        revocations = self._revocations
        record = await self.table.get(key_id)
        if record is None:
            self._cache.pop(key_id, None)
            return None
        principal = Principal(user_id=record.user_id, key_id=key_id, scopes=record.scopes)
        if revocations == self._revocations:
            self._cache[key_id] = (now, record.key_hash, principal)
        return principal if api_key_matches(token, record.key_hash) else None

    def forget(self, key_id: str) -> None:
        """A revoked key: refuse it from now on (the key log calls this)."""
        self._revocations += 1
        self._cache.pop(key_id, None)
