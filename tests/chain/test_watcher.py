"""The chain watcher against a real local chain: what it observes, decodes and confirms.

Each test runs a watcher from the block after the head (its own activity only), watching
our deployed contracts and the wallets the test's users watch, and compares what it
confirmed with one `eth_getLogs` over the final chain.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from web3 import Web3

from aggregates.services.bundle import Services
from chain.abis import register_abi
from chain.artifacts import load_artifact
from chain.deploy import LOCAL_PLAN, ROUTER, route_id
from chain.deployments import ChainDeployment
from events.catalog import ChainEventConfirmed, ChainEventObserved, ChainRecord
from events.store import EventStore
from impressox.embedded.chain import LOCAL_CHAIN_ID
from tests.chain.conftest import account, add_liquidity, deploy_pool, send, swap_eth_for_usd
from tests.chain.watching import (
    by_type,
    canonical_logs,
    duplicates,
    key_of,
    native_keys,
    rpc,
    signed_payment,
    watch_wallet,
    watching,
)


def records(events: list[Any], kind: type[Any] = ChainEventObserved) -> list[ChainRecord]:
    return [event.payload.record for event in events if isinstance(event.payload, kind)]


async def test_a_swap_and_a_wallets_transfers_are_observed_decoded_and_confirmed(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    trader, payer = account(w3, 6), account(w3, 7)
    await watch_wallet(services, trader)
    async with watching(store, w3, chain_url, deployment, confirmations=3) as run:
        first = w3.eth.block_number + 1
        swap = swap_eth_for_usd(w3, deployment, trader, 2 * 10**18)
        paid = send(w3, {"from": payer, "to": trader, "value": 3 * 10**18})
        token = deployment.address("tUSD")
        refused = send(w3, {"from": trader, "to": token, "value": 10**18, "gas": 100_000})
        assert refused["status"] == 0  # a token takes no ether: reverted, nothing moved
        await run.settles(w3)
        events = await run.events()

    observed = records(events)
    router = deployment.address(ROUTER).lower()
    fee = 2 * 10**18 * LOCAL_PLAN.fee_bps // 10_000
    swap_logs = [r for r in observed if r.tx_hash == swap["transactionHash"].to_0x_hex()]
    decoded = {(r.address, r.event) for r in swap_logs}
    assert {(router, "FeeCollected"), (router, "Swap")} <= decoded
    (collected,) = [r for r in swap_logs if r.event == "FeeCollected"]
    assert collected.args == {
        "payer": trader.lower(),
        "token": deployment.address("tETH").lower(),
        "amount": fee,
        "routeId": "0x" + route_id("tETH/tUSD").hex(),
    }
    assert collected.block_time is not None
    sent = [r.transfer for r in swap_logs if r.transfer and r.transfer.sender == trader.lower()]
    assert [(t.symbol, t.decimals, t.amount) for t in sent] == [("tETH", 18, 2.0)]
    natives = [r for r in observed if r.native]
    assert [(r.tx_hash, r.transfer and r.transfer.amount) for r in natives] == [
        (paid["transactionHash"].to_0x_hex(), 3.0)
    ]
    assert refused["transactionHash"].to_0x_hex() not in {r.tx_hash for r in observed}

    confirmed = by_type(events, "chain.confirmed")
    settled = {
        e.payload.observation_id for e in confirmed if isinstance(e.payload, ChainEventConfirmed)
    }
    assert settled == {e.event_id for e in by_type(events, "chain.observed")}
    logs = [key_of(e) for e in confirmed if e.payload.record.log_index is not None]  # type: ignore[attr-defined]
    assert duplicates(logs) == []
    assert set(logs) == canonical_logs(w3, deployment, [trader], first, w3.eth.block_number)


async def test_an_unknown_event_is_kept_raw_until_its_abi_is_registered(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    owner = uuid4()
    async with watching(store, w3, chain_url, deployment, confirmations=1) as run:
        pool, before = deploy_pool(w3, deployment, 10**18)
        await run.reaches(w3)  # read while the pool was watched by no one
        await asyncio.to_thread(
            services.alert_rules.create,
            owner,
            {
                "target": {"kind": "chain", "contract": pool.address},
                "condition": {"type": "transferred"},
                "channels": ["web"],
            },
        )
        rpc(w3, "evm_mine")  # the rule is read before this block

        other, _ = deploy_pool(w3, deployment, 10**18)  # another pool: not watched
        raw_receipt = add_liquidity(w3, deployment, pool, 5)
        await run.reaches(w3)
        await register_abi(store, LOCAL_CHAIN_ID, pool.address, load_artifact("MinimalPool").abi)
        rpc(w3, "evm_mine")
        await run.reaches(w3)
        decoded_receipt = add_liquidity(w3, deployment, pool, 7)
        await run.settles(w3)
        observed = records(await run.events())

    in_pool = [r for r in observed if r.address == pool.address.lower()]
    raw = [r for r in in_pool if r.tx_hash == raw_receipt["transactionHash"].to_0x_hex()]
    assert [(r.event, len(r.topics), r.data != "") for r in raw] == [("", 2, True), ("", 1, True)]
    later = [r for r in in_pool if r.tx_hash == decoded_receipt["transactionHash"].to_0x_hex()]
    assert [(r.event, r.args.get("amount0")) for r in later] == [
        ("LiquidityAdded", 7),
        ("Sync", None),
    ]
    assert before["transactionHash"].to_0x_hex() not in {r.tx_hash for r in in_pool}
    assert other.address.lower() not in {r.address for r in observed}


async def test_a_catch_up_confirms_what_awaited_confirmation_and_finds_native_transfers(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    """A watcher stopped while its last blocks await confirmation, restarted far behind
    the head, reads in ranges: it confirms them too (it used to leave them observed), and
    reads the blocks' transactions for native transfers (logs alone used to miss them)."""
    trader, payer = account(w3, 6), account(w3, 7)
    await watch_wallet(services, trader)
    first = w3.eth.block_number + 1
    async with watching(store, w3, chain_url, deployment, confirmations=3, depth=4) as run:
        swap_eth_for_usd(w3, deployment, trader, 10**17)
        await run.reaches(w3)
    signed_payment(w3, payer, trader, 10**17)
    for _ in range(12):  # more than twice the depth: the next start reads in ranges
        rpc(w3, "evm_mine")
    async with watching(store, w3, chain_url, deployment, confirmations=3, depth=4) as run:
        await run.settles(w3)
        events = await run.events()
    last = w3.eth.block_number - 2
    observed = {e.event_id for e in by_type(events, "chain.observed")}
    confirmed = [e.payload for e in by_type(events, "chain.confirmed")]
    settled = [c for c in confirmed if isinstance(c, ChainEventConfirmed)]
    assert observed == {c.observation_id for c in settled}
    logs = {(c.record.block_hash, c.record.tx_hash, c.record.log_index) for c in settled}
    assert {log for log in logs if log[2] is not None} == canonical_logs(
        w3, deployment, [trader], first, last
    )
    natives = {(c.record.block_hash, c.record.tx_hash) for c in settled if c.record.native}
    assert natives == native_keys(w3, {trader.lower()}, first, last) != set()
