"""Chain rules end to end on a real local chain: watcher, partitioner, rule engine, record.

A trader's rules are created through the AlertRules service; the watcher follows anvil,
the `chain-partitioner` copies its journal into the `chain` category, the `rules`
handler fires the rules and `rule-firings` records each firing on its rule. Every test
counts alerts per (rule, observation): exactly one, or none.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any

import pytest
from web3 import Web3

import chain.partitioner  # noqa: F401 - registers chain-partitioner
import rules.recorder  # noqa: F401 - registers rule-firings
from aggregates.alert_rule import AlertRule
from aggregates.services.bundle import Services
from chain.deploy import LOCAL_PLAN, ROUTER
from chain.deployments import ChainDeployment
from chain.usd_prices import UsdPriceBook
from events.catalog import AlertTriggered
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.settings import Settings
from rules.chain_alerts import REVERTED_CONDITION
from rules.handler import GROUP
from tests.chain.conftest import account, send, swap_eth_for_usd
from tests.chain.watching import rpc, watching
from tests.contexts import Contexts
from tests.handlers.support import FAST, read_all, running, wait_until

ETH = 10**18


def worker(name: str, contexts: Contexts, settings: Settings) -> Worker:
    return Worker(HANDLERS.get(name), contexts.store, FAST, contexts.handler(name, settings))


@pytest.fixture
async def rule_handlers(contexts: Contexts, settings: Settings) -> AsyncIterator[None]:
    async with (
        running(worker("chain-partitioner", contexts, settings)),
        running(worker(GROUP, contexts, settings)),
        running(worker("rule-firings", contexts, settings)),
    ):
        yield


def chain_rule(target: dict[str, Any], **condition: Any) -> dict[str, Any]:
    return {
        "target": {"kind": "chain", **target},
        "condition": {"type": "transferred", **condition},
        "frequency": {"kind": "every_time", "cooldown_s": 0},
        "channels": ["web"],
    }


async def alerts(store: EventStore) -> list[AlertTriggered]:
    found = []
    for event in await read_all(store, "alerts"):
        assert isinstance(event.payload, AlertTriggered)
        found.append(event.payload)
    return found


@pytest.mark.usefixtures("rule_handlers")
async def test_wallet_and_contract_rules_fire_once_per_confirmed_event(
    store: EventStore,
    w3: Web3,
    chain_url: str,
    deployment: ChainDeployment,
    services: Services,
) -> None:
    owner = services.users.register("trader")
    whale, friend, trader = account(w3, 1), account(w3, 2), account(w3, 3)
    create = services.alert_rules.create
    big_out = create(
        owner, chain_rule({"wallet": whale, "direction": "out", "token": "ETH"}, min_amount=10)
    )
    any_in = create(owner, chain_rule({"wallet": friend, "direction": "in"}))
    router = deployment.address(ROUTER)
    fee = 2 * ETH * LOCAL_PLAN.fee_bps // 10_000
    fees = create(
        owner,
        chain_rule(
            {
                "contract": router,
                "event": "FeeCollected",
                "where": [{"arg": "amount", "op": "gte", "value": fee}],
            }
        ),
    )
    too_high = create(
        owner,
        chain_rule(
            {
                "contract": router,
                "event": "FeeCollected",
                "where": [{"arg": "amount", "op": "gt", "value": fee}],
            }
        ),
    )
    async with watching(store, w3, chain_url, deployment, confirmations=3) as run:
        send(w3, {"from": whale, "to": friend, "value": 12 * ETH})  # both rules
        send(w3, {"from": whale, "to": friend, "value": 2 * ETH})  # friend's only
        swap = swap_eth_for_usd(w3, deployment, trader, 2 * ETH)  # fees
        await run.settles(w3)

        async def recorded() -> bool:
            rules: list[AlertRule] = [
                await asyncio.to_thread(services.alert_rules.load, rule_id)
                for rule_id in (big_out, any_in, fees)
            ]
            return [rule.trigger_count for rule in rules] == [1, 2, 1]

        await wait_until(recorded, 30)
        await asyncio.sleep(0.5)  # time for a wrong extra alert to show
    found = await alerts(store)
    by_rule = Counter(alert.rule_id for alert in found)
    assert by_rule == {big_out: 1, any_in: 2, fees: 1}
    assert too_high not in by_rule
    pairs = Counter((alert.rule_id, alert.values["observation_id"]) for alert in found)
    assert set(pairs.values()) == {1}  # one alert per (rule, event)
    assert {alert.values["stage"] for alert in found} == {"confirmed"}
    (whale_alert,) = [alert for alert in found if alert.rule_id == big_out]
    assert whale_alert.subject == whale
    assert whale_alert.values["amount"] == 12.0
    assert whale_alert.values["symbol"] == "ETH"
    assert whale_alert.message.startswith(f"{whale.lower()[:6]}…")
    assert "sent 12 ETH" in whale_alert.message
    (fee_alert,) = [alert for alert in found if alert.rule_id == fees]
    assert fee_alert.values["tx_hash"] == swap["transactionHash"].to_0x_hex()
    assert fee_alert.values["args"]["amount"] == fee
    assert "emitted FeeCollected(" in fee_alert.message


@pytest.mark.usefixtures("rule_handlers")
async def test_an_observed_rule_fires_at_once_and_a_reorg_sends_one_follow_up(
    store: EventStore,
    w3: Web3,
    chain_url: str,
    deployment: ChainDeployment,
    services: Services,
) -> None:
    owner = services.users.register("trader")
    sender, recipient = account(w3, 4), account(w3, 5)
    early = services.alert_rules.create(
        owner, chain_rule({"wallet": sender, "fire_on": "observed"}, min_amount=1)
    )
    late = services.alert_rules.create(owner, chain_rule({"wallet": sender}, min_amount=1))
    async with watching(store, w3, chain_url, deployment, confirmations=3) as run:
        send(w3, {"from": sender, "to": recipient, "value": 5 * ETH})
        await run.reaches(w3)

        async def fired_early() -> bool:
            return any(alert.rule_id == early for alert in await alerts(store))

        await wait_until(fired_early, 30)
        rpc(w3, "anvil_reorg", 1, [])  # the payment's block is replaced: it never happened
        await run.settles(w3)

        async def told() -> bool:
            return any(a.condition == REVERTED_CONDITION for a in await alerts(store))

        await wait_until(told, 30)
        await asyncio.sleep(0.5)
    found = await alerts(store)
    assert [(a.rule_id, a.values["stage"]) for a in found] == [
        (early, "observed"),
        (early, "retracted"),
    ]
    fired, reverted = found
    assert reverted.condition == REVERTED_CONDITION
    assert reverted.values["observation_id"] == fired.values["observation_id"]
    assert reverted.channels == fired.channels
    assert reverted.message.startswith("Reverted by a reorg:")
    assert late not in {a.rule_id for a in found}  # never confirmed: never fired
    rule: AlertRule = await asyncio.to_thread(services.alert_rules.load, early)
    assert rule.trigger_count == 1  # the follow-up is a notice, not a firing


class Quotes:
    """Prices as a `PriceSource` gives them (the real one reads the prices read model)."""

    def __init__(self, prices: Mapping[str, float]) -> None:
        self.prices = prices

    async def usd_prices(self, symbols: Collection[str]) -> Mapping[str, float]:
        return {symbol: self.prices[symbol] for symbol in symbols if symbol in self.prices}


@pytest.mark.usefixtures("rule_handlers")
async def test_a_usd_threshold_uses_the_price_known_when_the_transfer_was_seen(
    store: EventStore,
    w3: Web3,
    chain_url: str,
    deployment: ChainDeployment,
    services: Services,
) -> None:
    owner = services.users.register("trader")
    sender, recipient = account(w3, 6), account(w3, 7)
    rich = services.alert_rules.create(owner, chain_rule({"wallet": sender}, min_usd=10_000))
    prices = UsdPriceBook(Quotes({"ETH": 3_500.0}))
    async with watching(store, w3, chain_url, deployment, confirmations=2, prices=prices) as run:
        send(w3, {"from": sender, "to": recipient, "value": 2 * ETH})  # $7,000: no
        send(w3, {"from": sender, "to": recipient, "value": 3 * ETH})  # $10,500: yes
        await run.settles(w3)

        async def fired() -> bool:
            return bool(await alerts(store))

        await wait_until(fired, 30)
        await asyncio.sleep(0.5)
    (alert,) = await alerts(store)
    assert alert.rule_id == rich
    assert (alert.values["amount"], alert.values["usd_price"]) == (3.0, 3_500.0)
    assert alert.values["usd_value"] == 10_500.0
    assert "sent 3 ETH ($10,500)" in alert.message
