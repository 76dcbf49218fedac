"""What the watcher watches, learnt from the watches' and the rules' logs as they change."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from aggregates.services.bundle import Services
from chain.watchset import WatchSet, WatchTargets
from events.store import EventStore

ALICE_WALLET = "0x" + "a1" * 20
BOB_WALLET = "0x" + "b2" * 20
ROUTER = "0x" + "c3" * 20
POOL = "0x" + "d4" * 20
OURS = "0x" + "e5" * 20


def chain_rule(**target: Any) -> dict[str, Any]:
    return {
        "target": {"kind": "chain", **target},
        "condition": {"type": "transferred", "min_amount": 1},
        "channels": ["web"],
    }


async def test_wallets_and_rule_targets_come_and_go_with_their_events(
    store: EventStore, services: Services
) -> None:
    alice, bob = uuid4(), uuid4()
    watched = WatchSet(store, fixed_contracts=frozenset({OURS}))
    assert not await watched.refresh()
    assert watched.targets == WatchTargets(contracts=frozenset({OURS}))

    await asyncio.to_thread(services.watches.watch_wallet, alice, ALICE_WALLET)
    await asyncio.to_thread(services.watches.watch_wallet, bob, ALICE_WALLET)
    rule = await asyncio.to_thread(services.alert_rules.create, bob, chain_rule(contract=ROUTER))
    other = await asyncio.to_thread(
        services.alert_rules.create, bob, chain_rule(wallet=BOB_WALLET, contract=POOL)
    )
    assert await watched.refresh()
    assert watched.targets == WatchTargets(
        contracts=frozenset({OURS, ROUTER, POOL}), wallets=frozenset({ALICE_WALLET, BOB_WALLET})
    )

    await asyncio.to_thread(services.watches.unwatch_wallet, alice, ALICE_WALLET)
    await asyncio.to_thread(services.alert_rules.delete, rule)
    await asyncio.to_thread(services.alert_rules.pause, other)  # paused still watches
    assert await watched.refresh()
    assert watched.targets == WatchTargets(
        contracts=frozenset({OURS, POOL}),
        wallets=frozenset({ALICE_WALLET, BOB_WALLET}),  # Bob still watches Alice's wallet
    )

    await asyncio.to_thread(services.watches.unwatch_wallet, bob, ALICE_WALLET)
    await asyncio.to_thread(
        services.alert_rules.update,
        other,
        {**chain_rule(wallet=BOB_WALLET), "target": {"kind": "symbol", "symbol": "ETH/USD"},
         "condition": {"type": "above", "threshold": 1}},
    )  # fmt: skip
    assert await watched.refresh()
    assert watched.targets == WatchTargets(contracts=frozenset({OURS}))
    assert not await watched.refresh()  # nothing new: nothing changes

    fresh = WatchSet(store, fixed_contracts=frozenset({OURS}))
    await fresh.refresh()  # a restarted watcher reads the same from the start
    assert fresh.targets == watched.targets
