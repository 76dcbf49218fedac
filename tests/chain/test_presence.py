"""Whether a chain watcher runs is read from its lease, not from configuration."""

from __future__ import annotations

from redis.asyncio import Redis

from chain.presence import WatcherPresence
from events.names import StreamNames


async def test_a_configured_chain_counts_as_watched_only_until_its_grace_ends(
    redis: Redis, names: StreamNames
) -> None:
    """Issue 12: under `impressox up` every process is configured with the chain, so a
    stopped watcher (or one never started) still showed wallet rules as armed."""
    starting = WatcherPresence(redis, names, configured=True, startup_grace_s=60)
    assert await starting.watching()
    stopped = WatcherPresence(redis, names, configured=True, startup_grace_s=0, cache_s=0)
    assert not await stopped.watching()
    await redis.set(names.chain_state("lease", 31337), "chain-31337@here", px=30_000)
    assert await stopped.watching()
    await redis.delete(names.chain_state("lease", 31337))
    assert not await stopped.watching()


async def test_a_lease_elsewhere_counts_without_configuration(
    redis: Redis, names: StreamNames
) -> None:
    presence = WatcherPresence(redis, names, configured=False, cache_s=0)
    assert not await presence.watching()
    await redis.set(names.chain_state("lease", 1), "chain-1@elsewhere", px=30_000)
    assert await presence.watching()
