"""Finding the API key a request presents: by key id in the `api_keys` read model.

Only a key's hash is ever stored. A found key is trusted for `cache_s` seconds, so the
hot path costs no MongoDB round trip; revoking a key takes at most that long to bite.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from aggregates.errors import InvalidCommandError
from aggregates.secrets import api_key_matches, split_api_key
from projections.reader import ReadModels

API_KEYS = "api_keys"


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
    def __init__(self, read_models: ReadModels, *, cache_s: float) -> None:
        self.read_models = read_models
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, str, Principal]] = {}

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
        collection = await self.read_models.collection(API_KEYS)
        record = await collection.find_one({"_id": key_id})
        if record is None or record.get("revoked_at") is not None:
            self._cache.pop(key_id, None)
            return None
        principal = Principal(
            user_id=UUID(str(record["user_id"])),
            key_id=key_id,
            scopes=frozenset(record["scopes"]),
        )
        self._cache[key_id] = (now, record["key_hash"], principal)
        return principal if api_key_matches(token, record["key_hash"]) else None
