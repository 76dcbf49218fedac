"""Reorgs under a running watcher: every retraction pairs with its observation, and what it
confirmed is exactly what one `eth_getLogs` over the final chain returns.

anvil makes the reorgs: `anvil_reorg(depth, txs)` replaces the last blocks (moving a
signed transaction into another block when it is given again), `evm_snapshot` /
`evm_revert` drop blocks that new ones then replace.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from aggregates.services.bundle import Services
from chain.deployments import ChainDeployment
from chain.errors import DeepReorgError
from chain.observations import observation_id
from events.envelope import Event
from events.store import EventStore
from impressox.embedded.chain import LOCAL_CHAIN_ID
from tests.chain.conftest import account, send, swap_eth_for_usd
from tests.chain.watching import (
    Watching,
    by_type,
    canonical_logs,
    check_pairs,
    duplicates,
    key_of,
    native_keys,
    rpc,
    signed_payment,
    watch_wallet,
    watching,
)


def payload_of(event: Event) -> Any:
    return event.payload


async def activity(w3: Web3, deployment: ChainDeployment, trader: str, payer: str) -> str:
    """A swap by the trader (three blocks) and a payment to them (one): the payment's raw
    transaction is returned."""
    swap_eth_for_usd(w3, deployment, trader, 10**18)
    return signed_payment(w3, payer, trader, 10**17)


async def reorg_settled(run: Watching, w3: Web3) -> None:
    """A block on top of the reorged chain, so the watcher meets the new parent hash."""
    rpc(w3, "evm_mine")
    await run.reaches(w3)


async def test_reorgs_of_depth_one_to_five_retract_and_confirm_exactly_the_final_chain(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    trader, payer = account(w3, 8), account(w3, 9)
    await watch_wallet(services, trader)
    async with watching(store, w3, chain_url, deployment, confirmations=6, depth=12) as run:
        first = w3.eth.block_number + 1
        for depth in range(1, 6):
            payment = await activity(w3, deployment, trader, payer)
            await run.reaches(w3)
            rpc(w3, "anvil_reorg", depth, [[payment, 0]])  # the payment moves down a block
            await reorg_settled(run, w3)
        snapshot = rpc(w3, "evm_snapshot")
        await activity(w3, deployment, trader, payer)
        await run.reaches(w3)
        height = w3.eth.block_number
        assert rpc(w3, "evm_revert", snapshot) is True
        while w3.eth.block_number <= height:
            rpc(w3, "evm_mine")
        await run.reaches(w3)
        await run.settles(w3)
        last = (await run.cursor()).confirmed  # type: ignore[union-attr]
        events = await run.events()

    retracted = check_pairs(events)
    assert len({payload_of(e).record.block_hash for e in retracted}) >= 5
    assert not any(payload_of(e).after_confirmation for e in retracted)
    confirmed = by_type(events, "chain.confirmed")
    logs = [key_of(e) for e in confirmed if payload_of(e).record.log_index is not None]
    assert duplicates(logs) == []
    assert set(logs) == canonical_logs(w3, deployment, [trader], first, last)
    natives = [
        (payload_of(e).record.block_hash, payload_of(e).record.tx_hash)
        for e in confirmed
        if payload_of(e).record.native
    ]
    assert duplicates(natives) == []
    assert set(natives) == native_keys(w3, {trader.lower(), payer.lower()}, first, last)
    assert len(natives) == 5  # the moved payments, each confirmed once, in its final block
    retracted_ids = {payload_of(e).observation_id for e in retracted}
    assert not retracted_ids & {payload_of(e).observation_id for e in confirmed}


async def test_a_reorg_deeper_than_the_confirmations_retracts_what_was_confirmed(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    trader = account(w3, 8)
    await watch_wallet(services, trader)
    async with watching(store, w3, chain_url, deployment, confirmations=2, depth=8) as run:
        swap_eth_for_usd(w3, deployment, trader, 10**18)
        rpc(w3, "evm_mine")
        await run.reaches(w3)
        rpc(w3, "anvil_reorg", 4, [])
        await reorg_settled(run, w3)
        events = await run.events()

    retracted = check_pairs(events)
    swap_retractions = [e for e in retracted if payload_of(e).record.event == "Swap"]
    assert [payload_of(e).after_confirmation for e in swap_retractions] == [True]
    confirmed_ids = {payload_of(e).observation_id for e in by_type(events, "chain.confirmed")}
    assert payload_of(swap_retractions[0]).observation_id in confirmed_ids


async def test_a_reorg_deeper_than_the_window_stops_the_watcher_with_nothing_written(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment
) -> None:
    async with watching(store, w3, chain_url, deployment, confirmations=1, depth=3) as run:
        for _ in range(5):  # not empty: an empty block mined again in the same second
            send(w3, {"from": account(w3, 9), "to": account(w3, 8), "value": 1})  # is the same
        await run.reaches(w3)
        before = await run.cursor()
        written = len(await run.events())
        rpc(w3, "anvil_reorg", 5, [])
        rpc(w3, "evm_mine")
        with pytest.raises(DeepReorgError, match="deeper than the 3 blocks kept"):
            await run.reaches(w3)
        assert await run.cursor() == before
        assert len(await run.events()) == written


async def test_a_block_a_reorg_once_removed_is_observed_under_a_new_incarnation(
    store: EventStore, w3: Web3, chain_url: str, deployment: ChainDeployment, services: Services
) -> None:
    """A → B → A: the block's first observations were retracted; coming back, its
    records are observed again, under ids of their own."""
    trader = account(w3, 8)
    await watch_wallet(services, trader)
    receipt = swap_eth_for_usd(w3, deployment, trader, 10**18)
    block_hash = receipt["blockHash"].to_0x_hex()
    names = store.names
    await store.redis.hset(names.chain_state("reorged", LOCAL_CHAIN_ID), block_hash, 1)
    start = receipt["blockNumber"]
    async with watching(store, w3, chain_url, deployment, start_block=start) as run:
        await run.reaches(w3)
        observed = by_type(await run.events(), "chain.observed")

    in_block = [e for e in observed if payload_of(e).record.block_hash == block_hash]
    assert in_block
    for event in in_block:
        record = payload_of(event).record
        assert event.event_id == observation_id(
            LOCAL_CHAIN_ID, block_hash, record.tx_hash, record.log_index, 1
        )
        assert event.event_id != observation_id(
            LOCAL_CHAIN_ID, block_hash, record.tx_hash, record.log_index
        )
