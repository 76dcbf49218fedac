"""Whether a chain watcher runs: its lease in Redis, held while it follows a chain.

Rule health says ``no_chain_watcher`` for wallet and contract rules while nothing
watches a chain. A watcher, in this process tree or another (a compose service, another
host), shows itself by its lease key (``ix:{chain}:lease.<chain id>``), which expires a
few seconds after the watcher stops renewing it: that is the only proof, because a
configured chain (CHAIN_RPC_URL) may never be watched, or its watcher may stop (a local
chain that cannot restart stops the chain's part of `impressox up`). Configuration only
buys the watcher time to take its lease: for `startup_grace_s` after this process built
its presence, a configured chain counts as watched. The answer is kept for `cache_s`, so
a page of rules costs one Redis scan at most. Built by the composition root and handed
to the rule health readers of the API and the agent.
"""

from __future__ import annotations

import time

from events.names import StreamNames
from events.redis_client import RedisClient

DEFAULT_CACHE_S = 5.0
DEFAULT_STARTUP_GRACE_S = 30.0
"""Ample for a watcher started beside this process to connect and take its lease."""


class WatcherPresence:
    """Whether a chain is watched: a live lease anywhere (or, just after start, configured)."""

    def __init__(
        self,
        redis: RedisClient,
        names: StreamNames,
        *,
        configured: bool,
        cache_s: float = DEFAULT_CACHE_S,
        startup_grace_s: float = DEFAULT_STARTUP_GRACE_S,
    ) -> None:
        self.redis = redis
        self.names = names
        self.configured = configured
        self.cache_s = cache_s
        self._grace_ends = time.monotonic() + startup_grace_s
        self._seen: tuple[bool, float] | None = None

    async def watching(self) -> bool:
        now = time.monotonic()
        if self.configured and now < self._grace_ends:
            return True
        if self._seen is not None and now - self._seen[1] < self.cache_s:
            return self._seen[0]
        live = False
        async for _ in self.redis.scan_iter(match=self.names.chain_leases(), count=100):
            live = True
            break
        self._seen = (live, now)
        return live
