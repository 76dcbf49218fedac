"""The Telegram bot against a local Bot API: what users write becomes conversation turns,
and the agent's reply comes back to the chat once.

The bot runs as `impressox bots telegram` runs it (`serve_telegram`), polling
`TelegramChats`, with the users read model kept by the real projector.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from aggregates.conversation import AgentReply, Conversation, UserMessage, conversation_id
from aggregates.errors import NotFoundError
from aggregates.services.bundle import Services
from bots.keys import BotKeys
from bots.telegram_commands import HELP
from events.names import StreamNames
from events.store import EventStore
from impressox.settings import Settings
from tests.bots.conftest import CHAT, CONVERSATIONS_TAG, Start, StartWorker, linked_user
from tests.bots.servers import TelegramChats
from tests.handlers.support import wait_until
from tests.readside import ProjectorThread

BOT_ID = 123456
"""The id the local Bot API's getMe answers with."""


async def _conversation(services: Services, user_id: UUID, chat_id: int = CHAT) -> Conversation:
    found: Conversation = await asyncio.to_thread(
        services.conversations.load, conversation_id(user_id, "telegram", str(chat_id))
    )
    return found


async def _messages(services: Services, user_id: UUID) -> list[UserMessage]:
    try:
        conversation = await _conversation(services, user_id)
    except NotFoundError:
        return []
    return [turn for turn in conversation.turns if isinstance(turn, UserMessage)]


async def _offset(redis: Redis, names: StreamNames) -> int | None:
    stored = await redis.get(BotKeys(names, "telegram", BOT_ID).offset)
    return int(stored) if stored is not None else None


async def _handled(redis: Redis, names: StreamNames, update: dict[str, Any]) -> None:
    """Wait until the bot stored the offset past `update`: it handled it."""

    async def stored() -> bool:
        return await _offset(redis, names) == int(update["update_id"]) + 1

    await wait_until(stored)


async def test_a_linked_chats_message_is_recorded_in_its_conversation(
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
) -> None:
    user_id = await linked_user(services, settings)
    async with bot():
        update = await telegram.write(CHAT, "price of ETH")

        async def recorded() -> bool:
            return bool(await _messages(services, user_id))

        await wait_until(recorded)
    [message] = await _messages(services, user_id)
    assert message.message_id == f"tg:{CHAT}:{update['message']['message_id']}"
    assert message.text == "price of ETH"
    conversation = await _conversation(services, user_id)
    assert (conversation.platform, conversation.thread_id) == ("telegram", str(CHAT))
    assert telegram.sent() == []  # the bot itself says nothing: the reply comes from notify


async def test_an_unknown_chat_is_told_how_to_link_once_and_nothing_is_recorded(
    *,
    store: EventStore,
    redis: Redis,
    names: StreamNames,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
) -> None:
    stranger = 5151
    async with bot():
        await telegram.write(stranger, "hi")
        await telegram.write(stranger, "hello?")
        last = await telegram.write(stranger, "/help")

        await _handled(redis, names, last)
    hint, help_ = telegram.sent(stranger)  # the first message, and /help; not the second
    assert "not linked" in hint
    assert f"chat's id is {stranger}" in hint
    assert f'"chat_id": {stranger}' in hint
    assert "/link CODE" in hint
    assert help_ == HELP
    log = names.notification_log(CONVERSATIONS_TAG)
    assert await store.redis.xlen(log) == 0


async def test_start_in_a_linked_chat_greets_and_records_nothing(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    redis: Redis,
    names: StreamNames,
) -> None:
    user_id = await linked_user(services, settings)
    async with bot():
        last = await telegram.write(CHAT, "/start")

        await _handled(redis, names, last)
    [greeting] = telegram.sent(CHAT)
    assert greeting.startswith("Hi Satoshi!")
    assert await _messages(services, user_id) == []


async def test_a_restarted_bot_asks_for_the_first_update_it_has_not_handled(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    redis: Redis,
    names: StreamNames,
) -> None:
    user_id = await linked_user(services, settings)
    async with bot():
        first = await telegram.write(CHAT, "price of BTC")

        await _handled(redis, names, first)
    second = await telegram.write(CHAT, "price of SOL")  # written while the bot is down
    polls_before = len(telegram.polls())
    async with bot():

        async def both() -> bool:
            return len(await _messages(services, user_id)) == 2

        await wait_until(both)
    restarted_poll = telegram.polls()[polls_before]
    assert int(restarted_poll.fields["offset"]) == second["update_id"]
    assert [m.text for m in await _messages(services, user_id)] == ["price of BTC", "price of SOL"]


async def test_the_agents_reply_reaches_the_chat_once_even_when_redelivered(
    *,
    services: Services,
    settings: Settings,
    store: EventStore,
    names: StreamNames,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    agent_worker: StartWorker,
    replies_worker: StartWorker,
) -> None:
    user_id = await linked_user(services, settings)
    async with bot(), agent_worker(), replies_worker():
        await telegram.write(CHAT, "who are you?")

        async def delivered() -> bool:
            return bool(telegram.sent(CHAT))

        await wait_until(delivered)
    conversation = await _conversation(services, user_id)
    [reply] = [turn for turn in conversation.turns if isinstance(turn, AgentReply)]
    assert telegram.sent(CHAT) == [escape(reply.text, quote=False)]

    # Redelivery: the group forgets what it committed and reads the whole log again.
    log = names.notification_log(CONVERSATIONS_TAG)
    tracking = names.tracking(CONVERSATIONS_TAG, "agent-replies")
    newest = await store.redis.xrevrange(log, count=1)
    assert newest
    last_position = newest[0][0]
    await store.redis.delete(tracking)
    await store.redis.xgroup_setid(log, "agent-replies", "0")
    async with replies_worker():

        async def caught_up() -> bool:
            return await store.redis.hget(tracking, log) == last_position

        await wait_until(caught_up)
    assert telegram.sent(CHAT) == [escape(reply.text, quote=False)]
    outcomes = [
        recorded.event
        async for recorded in store.read_stream(names.stream(CONVERSATIONS_TAG, "notifications"))
    ]
    assert [(e.type, e.payload.channel_id) for e in outcomes] == [  # type: ignore[attr-defined]
        ("notification.sent", f"telegram:{CHAT}")
    ]
