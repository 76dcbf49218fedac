"""The agent's reply reaches a client following its conversation as it is written.

A real uvicorn server, a real `agent` worker (offline model), and a `websockets`
client: the ``delta`` pieces arrive before the recorded reply and add up to its text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import cast
from uuid import UUID

import pytest

from agent import handler as _registers_the_agent  # noqa: F401
from aggregates.services.bundle import Services
from api.context import ApiContext
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.settings import Settings
from tests.api.live_server import LiveServer
from tests.api.test_websocket import Message, client, receive, subscribe
from tests.contexts import Contexts
from tests.handlers.support import FAST, running
from tests.polling import wait_until
from tests.readside import ProjectorThread


@pytest.fixture
async def agent(
    store: EventStore, contexts: Contexts, settings: Settings, projector: ProjectorThread
) -> AsyncIterator[Worker]:
    worker = Worker(HANDLERS.get("agent"), store, FAST, contexts.handler("agent", settings))
    async with running(worker):
        yield worker


async def _until_replied(socket: object, message_id: str) -> tuple[list[Message], Message]:
    """The deltas of the reply to `message_id`, and the recorded reply that ends them."""
    pieces: list[Message] = []
    while True:
        message = await receive(socket)  # type: ignore[arg-type]
        if message["type"] == "delta" and message["in_reply_to"] == message_id:
            pieces.append(message)
        elif message["type"] == "event" and message["event"]["type"] == "conversation.replied":
            reply = message["event"]["payload"]["reply"]
            if reply["in_reply_to"] == message_id:
                return pieces, reply


async def test_a_reply_streams_before_it_is_recorded(
    live: LiveServer, user: tuple[UUID, str], services: Services, agent: Worker
) -> None:
    user_id, token = user
    conversations = services.conversations
    conversation_id, _ = await asyncio.to_thread(
        conversations.receive, user_id, "web", "t", {"message_id": "m1", "text": "hello"}
    )
    topic = f"conversation:{conversation_id}"
    async with client(live.url, token) as socket:
        await subscribe(socket, topic)
        context = cast(ApiContext, live.app.state.context)
        channel = context.store.names.reply_channel(str(conversation_id))
        assert context.deltas.following(channel) == 1
        second = {"message_id": "m2", "text": "who are you?"}
        await asyncio.to_thread(  # the agent may be recording its reply to m1 meanwhile
            conversations.retrying,
            lambda: conversations.receive(user_id, "web", "t", second),
        )
        pieces, reply = await _until_replied(socket, "m2")
    assert pieces, "the text arrives before the recorded reply"
    assert [p["seq"] for p in pieces] == list(range(1, len(pieces) + 1))
    assert {p["topic"] for p in pieces} == {topic}
    assert "".join(p["text"] for p in pieces) == reply["text"]

    async def released() -> bool:
        return context.deltas.following(channel) == 0

    await wait_until(released)  # the client left: nobody follows the channel now
