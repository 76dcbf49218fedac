"""The memory index and recall: facts into a real (embedded) Chroma by the real runtime,
and back out for a turn, nearest first, never another user's, never a forgotten one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest

import agent.toolset  # noqa: F401 - registers the tools (and the memory index)
from agent.context import AgentContext
from agent.memory import SMALL_MEMORY, memory_message, recall, remembered_in
from aggregates.services.bundle import Services
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.configs import knowledge_config
from impressox.connections import connect_mongo
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeContext
from knowledge.memory_index import MemoryIndex
from projections.reader import ReadModels
from projections.rule_health import RuleHealthReader
from tests.handlers.support import FAST, running
from tests.polling import wait_until

MANY = [
    "I hold 2 ETH",
    "I have 0.5 BTC",
    "I trade on Binance",
    "my risk tolerance is low",
    "I prefer swing trades",
    "I live in Paris",
    "I hold 100 SOL",
    "my time horizon is two years",
    "I use a Ledger",
    "I am new to DeFi",
    "my favourite coin is DOGE",
    "I trade on Kraken",
]


def health(read_models: ReadModels) -> RuleHealthReader:
    """What an agent context needs for rules (these tests make none)."""
    return RuleHealthReader(read_models, chain_watched=False, stale_after_s=0)


@pytest.fixture
async def indexer(store: EventStore, settings: Settings) -> AsyncIterator[Worker]:
    base = KnowledgeBase(knowledge_config(settings))
    worker = Worker(HANDLERS.get("memory_index"), store, FAST, KnowledgeContext(store, base))
    async with running(worker):
        yield worker
    await base.aclose()


@pytest.fixture
async def knowledge(settings: Settings) -> AsyncIterator[KnowledgeBase]:
    reader = KnowledgeBase(knowledge_config(settings))
    yield reader
    await reader.aclose()


@pytest.fixture
async def read_models(settings: Settings, mongo_url: str) -> AsyncIterator[ReadModels]:
    mongo = connect_mongo(mongo_url)
    yield ReadModels(mongo[settings.mongo_database], [])
    await mongo.close()


async def indexed(index: MemoryIndex, user_id: UUID) -> set[str]:
    """The texts of the user's facts in the index."""
    return {hit.text for hit in await index.search(user_id, "anything", k=50)}


async def remember(services: Services, user_id: UUID, *texts: str) -> None:
    for text in texts:
        await asyncio.to_thread(services.memory.remember, user_id, text)


async def test_the_index_holds_exactly_the_facts_users_have_now(
    services: Services, indexer: Worker, knowledge: KnowledgeBase
) -> None:
    ana, bo = uuid4(), uuid4()
    await remember(services, ana, "I hold 2 ETH", "I trade on Binance", "I prefer swing trades")
    await remember(services, bo, "I hold 9 ETH")
    await remember(services, ana, "I hold 3 ETH")  # supersedes "I hold 2 ETH"
    await asyncio.to_thread(services.memory.forget_about, ana, "swing trades")
    index = await knowledge.memory_index()

    async def current() -> bool:
        return await indexed(index, ana) == {"I hold 3 ETH", "I trade on Binance"}

    await wait_until(current)
    assert await indexed(index, bo) == {"I hold 9 ETH"}  # never another user's
    (hit,) = await index.search(bo, "ETH", k=5)
    facts = await asyncio.to_thread(services.memory.facts, bo)
    assert hit.fact_id == facts[0].fact_id
    assert index.collection.info.name.endswith("_memory_hashing")


async def test_recall_brings_the_nearest_facts_of_a_long_memory(
    services: Services,
    indexer: Worker,
    knowledge: KnowledgeBase,
    read_models: ReadModels,
) -> None:
    user = uuid4()
    assert len(MANY) > SMALL_MEMORY
    await remember(services, user, *MANY)
    index = await knowledge.memory_index()

    async def all_indexed() -> bool:
        return len(await indexed(index, user)) == len(MANY)

    await wait_until(all_indexed)
    context = AgentContext(user, services, read_models, knowledge, rule_health=health(read_models))
    assert await recall(context, "price of BTC") == ["I have 0.5 BTC"]
    recalled = await recall(context, "what about my risk tolerance")
    assert recalled[0] == "my risk tolerance is low"
    assert "I trade on Kraken" not in recalled  # the latest, but unrelated: a long memory
    # Forgotten, it is not recalled even before the index has caught up.
    await asyncio.to_thread(services.memory.forget_about, user, "I have BTC")
    assert await recall(context, "price of BTC") == []
    assert (
        await recall(
            AgentContext(
                uuid4(), services, read_models, knowledge, rule_health=health(read_models)
            ),
            "BTC",
        )
        == []
    )


async def test_a_short_memory_is_recalled_whatever_the_message(
    services: Services, read_models: ReadModels, knowledge: KnowledgeBase
) -> None:
    user = uuid4()
    await remember(services, user, "I hold 2 ETH", "I trade on Binance", "I like pizza", "I am 40")
    context = AgentContext(user, services, read_models, knowledge, rule_health=health(read_models))
    # Nothing indexed here (no indexer runs): the latest three, newest first.
    assert await recall(context, "hello") == ["I am 40", "I like pizza", "I trade on Binance"]
    without_index = AgentContext(user, services, read_models, rule_health=health(read_models))
    assert await recall(without_index, "hello") == await recall(context, "hello")


def test_the_recalled_facts_reach_the_model_as_one_system_message() -> None:
    assert memory_message([]) == []
    (message,) = memory_message(["I hold 2 ETH", "I trade on Binance"])
    assert str(message.content).startswith("What you know about this user")
    assert remembered_in([message]) == ["I hold 2 ETH", "I trade on Binance"]
