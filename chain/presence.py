"""Whether a chain watcher runs: its lease in Redis, held while it follows a chain.

Rule health says ``no_chain_watcher`` for wallet and contract rules while nothing
watches a chain. A process knows a chain is configured for it (CHAIN_RPC_URL, handed in
by the composition root); a watcher run by another process (a compose service, another
host) shows itself by its lease key (``ix:{chain}:lease.<chain id>``), which expires a
few seconds after the watcher stops renewing it. The answer is kept for `cache_s`, so
a page of rules costs one Redis scan at most. Built by the composition root and
handed to the rule health readers of the API and the agent.
"""

from __future__ import annotations

import time

from events.names import StreamNames
from events.redis_client import RedisClient

DEFAULT_CACHE_S = 5.0


class WatcherPresence:
    """Whether a chain is watched: configured here, or a live lease anywhere."""

    def __init__(
        self,
        redis: RedisClient,
        names: StreamNames,
        *,
        configured: bool,
        cache_s: float = DEFAULT_CACHE_S,
    ) -> None:
        self.redis = redis
        self.names = names
        self.configured = configured
        self.cache_s = cache_s
        self._seen: tuple[bool, float] | None = None

    async def watching(self) -> bool:
        if self.configured:
            return True
        now = time.monotonic()
        if self._seen is not None and now - self._seen[1] < self.cache_s:
            return self._seen[0]
        live = False
        async for _ in self.redis.scan_iter(match=self.names.chain_leases(), count=100):
            live = True
            break
        self._seen = (live, now)
        return live
