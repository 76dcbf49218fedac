"""The chain tools through the offline model and the real graph: a wallet's activity,
a wallet alert that is a real chain rule, the router's fees, from the chain read models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agent.context import AgentContext
from agent.rule_creation import user_rules
from aggregates.services.bundle import Services
from chain.observations import Observation, observation_id
from events.catalog import ChainRecord, ValueTransfer
from events.store import EventStore
from impressox.connections import connect_mongo
from impressox.settings import Settings
from projections.reader import ReadModels
from projections.readmodels.chain_events import ChainEvents
from projections.readmodels.wallet_activity import WalletActivity
from projections.registry import PROJECTIONS
from projections.rule_health import RuleHealthReader
from tests.agent.test_toolset import Session
from tests.handlers.support import wait_until
from tests.readside import ProjectorThread, isolated_settings

READ_MODELS = ["alert_rules", "users", WalletActivity.name, ChainEvents.name]
WHALE, FRIEND = "0x" + "a" * 40, "0x" + "b" * 40
TOKEN, ROUTER = "0x" + "c" * 40, "0x" + "d" * 40


@pytest.fixture
def settings(prefix: str, tmp_path: Path, redis_url: str) -> Settings:
    return isolated_settings(prefix, tmp_path, redis_url=redis_url)


@pytest.fixture
def projector(settings: Settings, redis_url: str, mongo_url: str) -> Iterator[ProjectorThread]:
    thread = ProjectorThread(settings, redis_url, mongo_url, names=READ_MODELS).start()
    yield thread
    thread.stop()


@pytest.fixture
async def context(
    settings: Settings, services: Services, mongo_url: str, projector: ProjectorThread
) -> AsyncIterator[AgentContext]:
    mongo = connect_mongo(mongo_url)
    projections = [PROJECTIONS.get(name) for name in READ_MODELS]
    read_models = ReadModels(mongo[settings.mongo_database], projections, cache_s=0.0)
    health = RuleHealthReader(read_models, chain_watched=True, stale_after_s=0)
    yield AgentContext(services.users.register("trader"), services, read_models, rule_health=health)
    await mongo.close()


def observed(record: ChainRecord) -> Observation:
    return Observation(
        observation_id(1, record.block_hash, record.tx_hash, record.log_index), record
    )


def records() -> list[ChainRecord]:
    block = {"chain_id": 1, "block_number": 7, "block_hash": "0x" + "1" * 64}
    payment = ValueTransfer(
        token=None,
        symbol="ETH",
        sender=WHALE,
        recipient=FRIEND,
        raw_amount=str(12 * 10**18),
        decimals=18,
        amount=12.0,
        usd_value=42_000.0,
    )
    fee = ValueTransfer(
        token=TOKEN,
        symbol="tUSD",
        sender=WHALE,
        recipient=ROUTER,
        raw_amount=str(3 * 10**18),
        decimals=18,
        amount=3.0,
    )
    return [
        ChainRecord(
            **block, tx_hash="0x" + "2" * 64, log_index=None, address=None, transfer=payment
        ),
        ChainRecord(
            **block,
            tx_hash="0x" + "3" * 64,
            log_index=0,
            address=TOKEN,
            event="Transfer",
            args={"from": WHALE, "to": ROUTER, "value": 3 * 10**18},
            transfer=fee,
        ),
        ChainRecord(
            **block,
            tx_hash="0x" + "3" * 64,
            log_index=1,
            address=ROUTER,
            event="FeeCollected",
            args={"payer": WHALE, "token": TOKEN, "amount": 3 * 10**18, "routeId": "0x01"},
        ),
    ]


async def test_what_a_wallet_did_its_alert_and_the_routers_fees(
    store: EventStore, context: AgentContext
) -> None:
    events = [
        stage for r in records() for stage in (observed(r).observed(), observed(r).confirmed(2))
    ]
    await store.append_batch("chain", events)

    async def projected() -> bool:
        collection = await context.read_models.collection(ChainEvents.name)
        return await collection.count_documents({"status": "confirmed"}) == 2

    await wait_until(projected)
    session = Session(context)

    did = await session.say(f"what did {WHALE} do today")
    assert "sent 12.00 ETH ($42,000.00) to 0xbbbb…bbbb (confirmed)" in did, did
    assert "sent 3.00 tUSD to 0xdddd…dddd (confirmed)" in did

    created = await session.say(f"alert me when {WHALE} sends more than 10 ETH")
    assert "wallet 0xaaaa…aaaa sends 10+ ETH" in created, created

    async def recorded() -> bool:
        return len(await user_rules(context)) == 1

    await wait_until(recorded)
    (rule,) = await user_rules(context)
    target, condition = rule["spec"]["target"], rule["spec"]["condition"]
    assert (target["wallet"].lower(), target["direction"], target["token"]) == (WHALE, "out", "ETH")
    assert (condition["type"], condition["min_amount"]) == ("transferred", 10)

    fees = await session.say("fees collected by the router this week")
    assert fees == "The router collected 3.00 tUSD (1 swap) in the last week.", fees
