"""The watcher through providers that misbehave: limits, 429s, timeouts, lagging nodes,
dead ones, and a node of another chain.

A loopback proxy (`tests.chain.proxy`) stands in front of anvil; what the watcher
confirmed must still be exactly one `eth_getLogs` over the final chain, and the proxy's
counts show the faults did happen.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from structlog.testing import capture_logs
from web3 import Web3

from aggregates.services.bundle import Services
from chain.deployments import ChainDeployment
from chain.errors import ChainIdMismatchError
from chain.rpc import ChainRpc
from events.names import StreamNames
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.chain import LOCAL_CHAIN_ID
from impressox.embedded.process import free_port
from impressox.embedded.redis import EmbeddedRedis
from tests.chain.conftest import account, swap_eth_for_usd
from tests.chain.proxy import node_proxy
from tests.chain.watching import (
    by_type,
    canonical_logs,
    duplicates,
    key_of,
    watch_wallet,
    watching,
)
from tests.servers import kill


async def test_catching_up_through_range_limits_rate_limits_and_timeouts_misses_nothing(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    trader = account(w3, 5)
    await watch_wallet(services, trader)
    first = w3.eth.block_number + 1
    for _ in range(8):  # 24 blocks of swaps: far enough behind to read them in ranges
        swap_eth_for_usd(w3, deployment, trader, 10**17)
    faults = {"range_limit": 3, "rate_limit_every": 11, "hang_every": 13, "hang_s": 1.0}
    async with (
        node_proxy(chain_url, **faults) as proxy,
        watching(
            store, w3, chain_url, deployment,
            urls=[proxy.url], start_block=first, depth=4, range_blocks=16, timeout_s=0.5,
        ) as run,
    ):  # fmt: skip
        await run.reaches(w3, within=60)
        await run.settles(w3, within=60)
        last = (await run.cursor()).confirmed  # type: ignore[union-attr]
        events = await run.events()

    assert proxy.injected["range"] >= 1
    assert proxy.injected["429"] >= 1
    assert proxy.injected["hang"] >= 1
    assert by_type(events, "chain.retracted") == []
    logs = [key_of(e) for e in by_type(events, "chain.confirmed")]
    assert duplicates(logs) == []
    assert set(logs) == canonical_logs(w3, deployment, [trader], first, last)
    assert len(logs) >= 8 * 5  # each swap: its transfers, the fee and the swap


async def test_a_lagging_node_behind_a_load_balancer_causes_no_false_reorg(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    trader = account(w3, 5)
    await watch_wallet(services, trader)
    async with (
        node_proxy(chain_url, lag=2) as proxy,
        watching(store, w3, chain_url, deployment, urls=[proxy.url], depth=8) as run,
    ):
        first = w3.eth.block_number + 1
        for _ in range(4):
            swap_eth_for_usd(w3, deployment, trader, 10**17)
            await run.reaches(w3)
        await run.settles(w3)
        last = (await run.cursor()).confirmed  # type: ignore[union-attr]
        events = await run.events()

    assert proxy.injected["lagged"] >= 4
    assert by_type(events, "chain.retracted") == []
    logs = [key_of(e) for e in by_type(events, "chain.confirmed")]
    assert duplicates(logs) == []
    assert set(logs) == canonical_logs(w3, deployment, [trader], first, last)


async def test_a_dead_node_fails_over_to_the_next(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    trader = account(w3, 5)
    await watch_wallet(services, trader)
    dead = f"http://127.0.0.1:{free_port()}/"
    async with watching(store, w3, chain_url, deployment, urls=[dead, chain_url]) as run:
        first = w3.eth.block_number + 1
        swap_eth_for_usd(w3, deployment, trader, 10**17)
        await run.settles(w3)
        last = (await run.cursor()).confirmed  # type: ignore[union-attr]
        logs = [key_of(e) for e in by_type(await run.events(), "chain.confirmed")]
    assert set(logs) == canonical_logs(w3, deployment, [trader], first, last) != set()


async def test_a_node_of_another_chain_is_refused_at_start(chain_url: str) -> None:
    async with node_proxy(chain_url, chain_id=1) as other:
        both, local = ChainRpc([chain_url, other.url]), ChainRpc([chain_url])
        try:
            refused = r"#2 http://127\.0\.0\.1:\d+ serves chain 1"
            with pytest.raises(ChainIdMismatchError, match=refused):
                await both.connect()
            with pytest.raises(ChainIdMismatchError, match="IMPRESSOX_CHAIN_ID is 1"):
                await local.connect(1)
            assert await local.connect(LOCAL_CHAIN_ID) == LOCAL_CHAIN_ID
        finally:
            await both.aclose()
            await local.aclose()


async def test_a_node_url_never_reaches_the_logs(
    chain_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A provider's URL holds its key; web3 logs the URL of every request (DEBUG) and of
    every closed session (INFO)."""
    caplog.set_level(logging.DEBUG)
    async with node_proxy(chain_url) as proxy:
        rpc = ChainRpc([proxy.url + "v3/s3cr3t-key"])
        await rpc.connect(LOCAL_CHAIN_ID)
        assert await rpc.block_number() >= 0
        await rpc.aclose()
    assert rpc.nodes == [f"#1 {proxy.url.removesuffix('/')}/…"]
    assert "s3cr3t" not in caplog.text


async def test_the_watcher_waits_out_a_redis_outage_and_misses_nothing(
    private_redis: EmbeddedRedis,
    fresh_outages: None,
    w3: Web3,
    chain_url: str,
    deployment: ChainDeployment,
) -> None:
    """Redis SIGKILLed and started again on its port (as `impressox up` does): the watcher
    waits, says so once each way, and confirms every log once (it died of this before)."""
    client = await connect_redis(private_redis.url)
    store = EventStore(client, StreamNames("outage", partitions=2))
    trader = account(w3, 6)
    first = w3.eth.block_number + 1
    try:
        with capture_logs() as logs:
            async with watching(store, w3, chain_url, deployment, start_block=first) as run:
                swap_eth_for_usd(w3, deployment, trader, 10**17)
                await run.reaches(w3)
                kill(private_redis)
                swap_eth_for_usd(w3, deployment, trader, 10**17)  # while Redis is away
                await asyncio.sleep(1.0)
                assert not run.task.done()
                private_redis.start()
                swap_eth_for_usd(w3, deployment, trader, 10**17)
                await run.reaches(w3, within=60)
                await run.settles(w3, within=60)
                last = (await run.cursor()).confirmed  # type: ignore[union-attr]
                events = await run.events()
    finally:
        await client.aclose()

    confirmed = [key_of(e) for e in by_type(events, "chain.confirmed")]
    assert duplicates(confirmed) == []
    assert set(confirmed) == canonical_logs(w3, deployment, [], first, last)
    said = [entry["event"] for entry in logs if entry.get("dependency") == "Redis"]
    assert said.count("Redis unavailable; waiting for it") == 1
    assert said.count("Redis is back") == 1
