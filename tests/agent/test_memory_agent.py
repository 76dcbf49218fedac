"""Long-term memory through the real `agent` handler: a fact stated in one conversation is
an event with its source, is recalled in another, and is recorded once under redelivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import pytest

import knowledge.memory_index  # noqa: F401 - registers the memory index
import projections.readmodels  # noqa: F401 - registers the read models
from agent import handler as _registers_the_agent  # noqa: F401
from aggregates.conversation import Conversation
from aggregates.memory import memory_id
from aggregates.services.bundle import Services
from events.catalog import PriceTick
from events.envelope import Event
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.settings import Settings
from projections.readmodels.prices import Prices
from tests.contexts import Contexts
from tests.handlers.support import FAST, running
from tests.polling import wait_until
from tests.readside import ProjectorThread

READ_MODELS = [Prices.name]


def worker(name: str, contexts: Contexts, settings: Settings) -> Worker:
    return Worker(HANDLERS.get(name), contexts.store, FAST, contexts.handler(name, settings))


@pytest.fixture
async def agent(
    store: EventStore, contexts: Contexts, settings: Settings, projector: ProjectorThread
) -> AsyncIterator[Worker]:
    async with (
        running(worker("memory_index", contexts, settings)),
        running(worker("agent", contexts, settings)) as answering,
    ):
        yield answering


class Thread:
    """One of a user's conversations, spoken to as the API records messages."""

    def __init__(self, services: Services, user_id: UUID, thread_id: str) -> None:
        self.services = services
        self.user_id = user_id
        self.thread_id = thread_id
        self.sent = 0
        self.conversation_id: UUID | None = None

    async def send(self, text: str) -> str:
        """Record the message (not waiting for the reply); its id."""
        self.sent += 1
        message_id = f"{self.thread_id}-m{self.sent}"
        self.conversation_id, _ = await asyncio.to_thread(
            self.services.conversations.receive,
            self.user_id,
            "web",
            self.thread_id,
            {"message_id": message_id, "text": text},
        )
        return message_id

    async def reply(self, message_id: str) -> str:
        async def answered() -> bool:
            return (await self.load()).reply_to(message_id) is not None

        await wait_until(answered)
        reply = (await self.load()).reply_to(message_id)
        assert reply is not None
        return reply.text

    async def say(self, text: str) -> str:
        return await self.reply(await self.send(text))

    async def load(self) -> Conversation:
        assert self.conversation_id is not None
        found: Conversation = await asyncio.to_thread(
            self.services.conversations.load, self.conversation_id
        )
        return found


def recorded_facts(services: Services, user_id: UUID) -> list[dict[str, object]]:
    """The `memory.fact_recorded` events of the user's memory, as dictionaries."""
    history = services.memory.history(memory_id(user_id))
    return [
        event.model_dump(mode="json")["fact"]
        for event in history
        if event.event_type == "memory.fact_recorded"
    ]


async def test_a_fact_told_in_one_conversation_is_remembered_in_another(
    services: Services, store: EventStore, agent: Worker
) -> None:
    user_id = services.users.register("trader")
    first = Thread(services, user_id, "monday")
    assert await first.say("I hold 2 ETH") == "Noted, I will remember: I hold 2 ETH."
    (fact,) = recorded_facts(services, user_id)
    assert fact["source"] == {
        "conversation_id": str(first.conversation_id),
        "message_id": "monday-m1",
    }
    assert fact["fields"] == {"asset": "ETH", "amount": 2.0}

    later = Thread(services, user_id, "friday")
    assert later.conversation_id != first.conversation_id
    recalled = await later.say("what do you remember about me")
    assert recalled == "You told me:\n• I hold 2 ETH"

    # The recalled fact is in the model's context: a price becomes the holding's worth.
    tick = PriceTick(
        symbol="ETH/USDT", venue="binance", price=3000.0, source_time=datetime.now(UTC)
    )
    await store.append("ticks", Event(key=tick.symbol, payload=tick))

    async def worth() -> bool:
        return "Your 2 ETH: 6,000.00 USDT." in await later.say("how much is my ETH worth?")

    await wait_until(worth)
    assert await later.say("I hold 3 ETH") == (
        "Noted, I will remember: I hold 3 ETH (instead of: I hold 2 ETH)."
    )
    assert await later.say("forget that I hold ETH") == "Forgotten: I hold 3 ETH."
    assert (await later.say("what do you remember about me")).startswith(
        "You have not told me anything"
    )
    # Another user's thread recalls nothing of this user's.
    other = Thread(services, services.users.register("other"), "monday")
    assert (await other.say("what do you know about me?")).startswith("You have not told me")


async def test_forgetting_everything_asks_first_then_forgets_every_fact(
    services: Services, agent: Worker
) -> None:
    user_id = services.users.register("forgetful")
    thread = Thread(services, user_id, "monday")
    await thread.say("I hold 2 ETH")
    await thread.say("I trade on kraken")
    asked = await thread.say("forget everything about me")
    assert asked == "Forget everything I know about you (2 facts)? Yes / No"
    assert await thread.say("yes") == "Forgotten everything you told me (2 facts)."
    assert services.memory.facts(user_id) == []
    nothing = await thread.say("forget everything")
    assert nothing == "I could not forget everything: you have not told me anything to forget."


async def test_a_redelivered_statement_records_its_fact_once(
    services: Services,
    store: EventStore,
    contexts: Contexts,
    settings: Settings,
    projector: ProjectorThread,
) -> None:
    user_id = services.users.register("trader")
    chat = Thread(services, user_id, "t")
    message_id = await chat.send("I hold 2 ETH")
    # A previous worker ran the turn's `remember`, then died before recording the turn.
    await asyncio.to_thread(
        services.memory.remember,
        user_id,
        "I hold 2 ETH",
        conversation_id=chat.conversation_id,
        message_id=message_id,
    )
    async with running(worker("agent", contexts, settings)):
        assert await chat.reply(message_id) == "Noted, I will remember: I hold 2 ETH."
    assert len(recorded_facts(services, user_id)) == 1
    assert [f.text for f in services.memory.facts(user_id)] == ["I hold 2 ETH"]
