"""The `agent` handler in the real runtime: one reply per message, whatever happens.

A message recorded through the Conversations application (as the API records it) is
answered by an `agent` worker; the turn's tool calls, results and reply end up on the
Conversation aggregate.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID, uuid5

import pytest

import projections.readmodels  # noqa: F401 - registers the read models
from agent import handler as _registers_the_agent  # noqa: F401
from agent.alert_tools import CreateAlertArgs, spec_of
from agent.journal import call_id_for
from agent.rule_creation import RULE_NAMESPACE
from aggregates.conversation import AgentReply, Conversation, ToolCall, ToolResult
from aggregates.services.bundle import Services
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.settings import Settings
from tests.contexts import Contexts
from tests.handlers.support import FAST, running, wait_until
from tests.readside import ProjectorThread, isolated_settings

CREATED = (
    "Done, but no running price source reports BTC/USDT yet: it will not fire until one does."
    " It is alert 1, \u201cBTC/USDT above 100,000\u201d. It fires at most once an hour, on the web."
)
"""The answer to "alert me when BTC goes above 100k" here, where no price source runs."""


@pytest.fixture
def settings(prefix: str, tmp_path: Path, redis_url: str, mongo_url: str) -> Settings:
    return isolated_settings(prefix, tmp_path, redis_url=redis_url, mongo_url=mongo_url)


@pytest.fixture
def projector(settings: Settings, redis_url: str, mongo_url: str) -> Iterator[ProjectorThread]:
    thread = ProjectorThread(settings, redis_url, mongo_url, names=["alert_rules"]).start()
    yield thread
    thread.stop()


@pytest.fixture
async def agent(
    store: EventStore, contexts: Contexts, settings: Settings, projector: ProjectorThread
) -> AsyncIterator[Worker]:
    worker = Worker(HANDLERS.get("agent"), store, FAST, contexts.handler("agent", settings))
    async with running(worker):
        yield worker


class Chat:
    """A user's thread, spoken to through the Conversations application."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.user_id = services.users.register("trader")
        self.sent = 0

    async def say(self, text: str, message_id: str | None = None) -> str:
        self.sent += 1
        message_id = message_id or f"m{self.sent}"
        conversation_id, _ = await asyncio.to_thread(
            self.services.conversations.receive,
            self.user_id,
            "web",
            "thread",
            {"message_id": message_id, "text": text},
        )
        self.conversation_id = conversation_id

        async def answered() -> bool:
            return (await self.load()).reply_to(message_id) is not None

        await wait_until(answered)
        reply = (await self.load()).reply_to(message_id)
        assert reply is not None
        return reply.text

    async def receive(self, message_id: str, text: str) -> UUID:
        """Record a message without waiting for its reply (a worker may not run yet)."""
        self.conversation_id, _ = await asyncio.to_thread(
            self.services.conversations.receive,
            self.user_id,
            "web",
            "thread",
            {"message_id": message_id, "text": text},
        )
        return self.conversation_id

    async def load(self) -> Conversation:
        found: Conversation = await asyncio.to_thread(
            self.services.conversations.load, self.conversation_id
        )
        return found


async def test_each_message_is_answered_once_with_its_turn_on_the_record(
    services: Services, agent: Worker
) -> None:
    chat = Chat(services)
    assert await chat.say("alert me when BTC goes above 100k") == CREATED
    # The same message delivered again (a client retry) records nothing, answers nothing.
    assert await chat.say("alert me when BTC goes above 100k", message_id="m1") == CREATED
    conversation = await chat.load()
    calls = [t for t in conversation.turns if isinstance(t, ToolCall)]
    assert [(c.tool, c.in_reply_to) for c in calls] == [("create_alert", "m1")]
    assert [t for t in conversation.turns if isinstance(t, ToolResult)]
    replies = [t for t in conversation.turns if isinstance(t, AgentReply)]
    assert len(replies) == 1
    assert replies[0].usage is not None
    assert replies[0].usage.model == "impressox-offline"


async def test_a_deletion_waits_for_the_users_yes(services: Services, agent: Worker) -> None:
    chat = Chat(services)
    await chat.say("alert me when ETH goes below 2000")

    async def listed() -> bool:
        return "1. ETH/USDT below 2,000" in await chat.say("list my alerts")

    await wait_until(listed)
    assert await chat.say("delete alert 1") == "Delete alert 1, 'ETH/USDT below 2,000'? Yes / No"
    assert await chat.say("yes") == "Deleted alert 1: ETH/USDT below 2,000."
    assert (await chat.say("yes")).startswith("There is nothing waiting for a yes or a no")


async def test_a_turn_interrupted_after_its_tools_is_answered_without_running_them_again(
    services: Services,
    store: EventStore,
    contexts: Contexts,
    settings: Settings,
    projector: ProjectorThread,
) -> None:
    chat = Chat(services)
    conversation_id = await chat.receive("m1", "alert me when BTC goes above 100k")
    # A previous worker ran the tool and recorded it, then died before replying.
    call = {"call_id": "c1", "in_reply_to": "m1", "tool": "create_alert", "arguments": {}}
    await asyncio.to_thread(services.conversations.call_tool, conversation_id, call)
    output = json.dumps(
        {
            "rule_id": "r",
            "number": 1,
            "summary": "BTC/USDT above 100,000",
            "frequency": {"kind": "at_most_once_per", "interval_s": 3600},
        }
    )
    result = {"call_id": "c1", "output": output}
    await asyncio.to_thread(services.conversations.record_tool_result, conversation_id, result)
    worker = Worker(HANDLERS.get("agent"), store, FAST, contexts.handler("agent", settings))
    async with running(worker):

        async def answered() -> bool:
            return (await chat.load()).reply_to("m1") is not None

        await wait_until(answered)
    conversation = await chat.load()
    reply = conversation.reply_to("m1")
    assert reply is not None
    # answered from the recorded result, which (written as a version before rule health
    # would have) carries no health
    assert reply.text == (
        "Done: alert 1, \u201cBTC/USDT above 100,000\u201d. It fires at most once an hour,"
        " on the web."
    )
    assert len([t for t in conversation.turns if isinstance(t, ToolCall)]) == 1  # not re-run


async def _answer_with_a_fresh_worker(
    chat: Chat, store: EventStore, contexts: Contexts, settings: Settings, message_id: str
) -> str:
    worker = Worker(HANDLERS.get("agent"), store, FAST, contexts.handler("agent", settings))
    async with running(worker):

        async def answered() -> bool:
            return (await chat.load()).reply_to(message_id) is not None

        await wait_until(answered)
    reply = (await chat.load()).reply_to(message_id)
    assert reply is not None
    return reply.text


async def test_a_call_that_ran_before_a_crash_finds_its_work_when_run_again(
    services: Services,
    store: EventStore,
    contexts: Contexts,
    settings: Settings,
    projector: ProjectorThread,
) -> None:
    chat = Chat(services)
    conversation_id = await chat.receive("m1", "alert me when BTC goes above 100k")
    # A previous worker journaled the call, created the rule, and died before the result.
    arguments = {"symbol": "BTC/USDT", "condition": "above", "threshold": 100_000}
    call_id = call_id_for("m1", "model-call-1")
    call = {"call_id": call_id, "in_reply_to": "m1", "tool": "create_alert", "arguments": arguments}
    await asyncio.to_thread(services.conversations.call_tool, conversation_id, call)
    spec = spec_of(CreateAlertArgs.model_validate(arguments))
    rule_id = uuid5(RULE_NAMESPACE, call_id)
    await asyncio.to_thread(services.alert_rules.create, chat.user_id, spec, rule_id)

    text = await _answer_with_a_fresh_worker(chat, store, contexts, settings, "m1")

    assert text == CREATED
    conversation = await chat.load()
    (result,) = [t for t in conversation.turns if isinstance(t, ToolResult)]
    assert result.call_id == call_id
    assert json.loads(result.output)["rule_id"] == str(rule_id)  # the same rule, not another
    assert len([t for t in conversation.turns if isinstance(t, ToolCall)]) == 1


async def test_an_interrupted_deletion_is_not_run_again(
    services: Services,
    store: EventStore,
    contexts: Contexts,
    settings: Settings,
    projector: ProjectorThread,
) -> None:
    chat = Chat(services)
    conversation_id = await chat.receive("m1", "yes")
    call = {
        "call_id": call_id_for("m1", "pending-delete"),
        "in_reply_to": "m1",
        "tool": "delete_alert",
        "arguments": {"number": 1},
    }
    await asyncio.to_thread(services.conversations.call_tool, conversation_id, call)

    text = await _answer_with_a_fresh_worker(chat, store, contexts, settings, "m1")

    assert "interrupted" in text
    assert "check" in text


async def test_a_question_asked_is_answered_next_turn_even_by_another_worker(
    services: Services,
    store: EventStore,
    contexts: Contexts,
    settings: Settings,
    projector: ProjectorThread,
) -> None:
    chat = Chat(services)
    await chat.receive("m1", "alert me at 300")
    asked = await _answer_with_a_fresh_worker(chat, store, contexts, settings, "m1")
    assert asked == 'Above or below 300, and for which coin? (e.g. "SOL above")'
    conversation = await chat.load()
    clarification = conversation.clarification_for("m1")
    assert clarification is not None  # on the record: conversation.clarification_asked
    assert clarification.request["missing"] == ["symbol", "side"]
    assert not [t for t in conversation.turns if isinstance(t, ToolCall)]  # no guess

    await chat.receive("m2", "sol, above")  # answered after a restart: another worker
    done = await _answer_with_a_fresh_worker(chat, store, contexts, settings, "m2")

    assert "alert 1, \u201cSOL/USDT above 300\u201d." in done
    (call,) = [t for t in (await chat.load()).turns if isinstance(t, ToolCall)]
    assert call.arguments == {"symbol": "SOL/USDT", "condition": "above", "threshold": 300}


async def test_a_no_to_a_deletion_deletes_nothing(services: Services, agent: Worker) -> None:
    chat = Chat(services)
    await chat.say("alert me when ETH goes below 2000")

    async def listed() -> bool:
        return "1. ETH/USDT below 2,000" in await chat.say("list my alerts")

    await wait_until(listed)
    await chat.say("delete all my alerts")
    assert await chat.say("nah, keep them") == "OK, I did not do it: nothing changed."
    assert "1. ETH/USDT below 2,000 — active" in await chat.say("list my alerts")
