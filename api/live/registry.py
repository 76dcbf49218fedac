"""The open live sessions of this API process, by API key: a revoked key's are closed.

A WebSocket outlives the request that opened it, so checking its key once at the
handshake is not enough: issue 13 saw a revoked key keep streaming private alerts for
40 s and more. Two things close a revoked key's sessions with 4401:

1. At once: the key log (`api.key_log`) reports each revocation it reads, in every API
   process, and `revoked` ends that key's sessions here.
2. At the latest after `recheck_s`: every open key is checked again as REST would
   check it (`KeyAuthenticator`, whose cache a revocation empties), once for all the
   sessions on it (they all presented it, and it was valid). This covers what
   (1) cannot: a session whose handshake read its key just before the revocation and
   registered just after it was reported.

A key that cannot be checked because a dependency is away is left alone: a revocation
needs Redis too, and rechecking resumes when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import structlog

from api.keys import KeyAuthenticator
from events.outages import unavailable_dependency

log = structlog.get_logger(__name__)

REVOKED = "the API key was revoked"
MIN_RECHECK_S = 0.5
"""The shortest interval between rechecks, whatever `auth_cache_s` is (it may be 0)."""


class Revocable(Protocol):
    """A live session as the registry sees it."""

    @property
    def key_id(self) -> str: ...

    @property
    def token(self) -> str: ...

    def revoke(self, reason: str) -> None:
        """Close the session with 4401 and `reason` (soon; never waits)."""


class LiveSessions:
    """Sessions by key id, and the loop that checks their keys again."""

    def __init__(self, keys: KeyAuthenticator, *, recheck_s: float) -> None:
        self._keys = keys
        self._recheck_s = max(recheck_s, MIN_RECHECK_S)
        self._by_key: dict[str, dict[Revocable, None]] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, session: Revocable) -> Callable[[], None]:
        """Follow `session`'s key; returns how to stop (call it when the session ends)."""
        self._by_key.setdefault(session.key_id, {})[session] = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._recheck(), name="live key recheck")

        def remove() -> None:
            sessions = self._by_key.get(session.key_id, {})
            sessions.pop(session, None)
            if not sessions:
                self._by_key.pop(session.key_id, None)

        return remove

    def revoked(self, key_id: str) -> None:
        """A revocation the key log read: close every session on that key."""
        for session in list(self._by_key.get(key_id, ())):
            session.revoke(REVOKED)

    def count(self, key_id: str) -> int:
        """How many sessions use `key_id` now (for tests and metrics)."""
        return len(self._by_key.get(key_id, ()))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _recheck(self) -> None:
        while self._by_key:
            await asyncio.sleep(self._recheck_s)
            for key_id, sessions in list(self._by_key.items()):
                if sessions:
                    await self._check(key_id, next(iter(sessions)).token)

    async def _check(self, key_id: str, token: str) -> None:
        """Check one key for all its sessions: they all presented it, and it was valid."""
        try:
            principal = await self._keys.authenticate(token)
        except Exception as error:
            if unavailable_dependency(error) is None:
                log.exception("live key recheck failed")
            return
        if principal is None:
            self.revoked(key_id)
