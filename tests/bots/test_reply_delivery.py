"""The agent-replies handler in the real runtime: each reply of a Telegram or Discord
conversation reaches its thread through the local Bot API or Discord API, cut to the
platform's limit, once; web replies are left to the WebSocket; failures are recorded
and dead-lettered like alerts'."""

from __future__ import annotations

import asyncio
from uuid import UUID

from aggregates.channels import Platform
from aggregates.services.bundle import Services
from events.envelope import Event
from events.names import StreamNames
from events.store import EventStore
from handlers.dead_letter_ops import DeadLetters
from notify.replies import REPLIES_HANDLER
from tests.bots.conftest import CHAT, CONVERSATIONS_TAG, DISCORD_CHANNEL, StartWorker
from tests.bots.servers import TelegramChats
from tests.handlers.support import wait_until
from tests.notify.servers import DiscordApi, Fault


async def _say_and_reply(
    services: Services, platform: Platform, thread: str, reply: str, number: int = 1
) -> UUID:
    """A message in a thread, and the agent's reply to it (recorded as the agent does)."""
    user_id = await asyncio.to_thread(services.users.register, "Satoshi")
    message = {"message_id": f"m{number}", "text": "tell me everything"}
    conversations = services.conversations
    conversation_id, _ = await asyncio.to_thread(
        conversations.receive, user_id, platform, thread, message
    )
    answer = {"reply_id": f"r{number}", "in_reply_to": f"m{number}", "text": reply}
    await asyncio.to_thread(conversations.reply, conversation_id, answer)
    return user_id


async def _caught_up(store: EventStore) -> None:
    """Wait until agent-replies has committed the whole conversations log."""
    names = store.names
    log = names.notification_log(CONVERSATIONS_TAG)
    tracking = names.tracking(CONVERSATIONS_TAG, REPLIES_HANDLER)
    newest = await store.redis.xrevrange(log, count=1)
    assert newest
    last = newest[0][0]

    async def committed() -> bool:
        return await store.redis.hget(tracking, log) == last

    await wait_until(committed)


async def _outcomes(store: EventStore, names: StreamNames) -> list[Event]:
    stream = names.stream(CONVERSATIONS_TAG, "notifications")
    return [recorded.event async for recorded in store.read_stream(stream)]


def _messages(discord: DiscordApi) -> list[dict[str, object]]:
    return [
        request.fields
        for request in discord.requests
        if request.path == f"/api/v10/channels/{DISCORD_CHANNEL}/messages"
    ]


async def test_a_long_discord_reply_arrives_in_paragraphs_and_a_web_reply_is_not_sent(
    *,
    services: Services,
    store: EventStore,
    names: StreamNames,
    discord: DiscordApi,
    telegram: TelegramChats,
    replies_worker: StartWorker,
) -> None:
    first, second, third = ("a" * 900, "b" * 900, "c" * 900)
    words = " ".join(["@everyone"] * 250)  # one 2499-character paragraph: cut between words
    reply = f"{first}\n\n{second}\n\n{third}\n\n{words}"
    await _say_and_reply(services, "web", "thread", "a web reply", number=1)
    user_id = await _say_and_reply(services, "discord", DISCORD_CHANNEL, reply, number=2)
    async with replies_worker():
        await _caught_up(store)
    messages = _messages(discord)
    contents = [str(message["content"]) for message in messages]
    assert contents[:2] == [f"{first}\n\n{second}", third]
    assert all(len(content) <= 2000 for content in contents)
    assert " ".join(contents[2:]) == words
    assert all(message["allowed_mentions"] == {"parse": []} for message in messages)
    assert telegram.requests == []  # the web reply went nowhere
    outcomes = await _outcomes(store, names)
    assert [e.type for e in outcomes] == ["notification.sent"] * len(contents)
    assert {(e.payload.user_id, e.payload.channel_id) for e in outcomes} == {  # type: ignore[attr-defined]
        (user_id, f"discord:{DISCORD_CHANNEL}")
    }


async def test_a_chat_that_refuses_for_good_is_recorded_and_the_rest_not_sent(
    services: Services,
    store: EventStore,
    names: StreamNames,
    telegram: TelegramChats,
    replies_worker: StartWorker,
) -> None:
    gone = 8080  # a chat the Bot API does not know
    reply = f"{'x' * 3000}\n\n{'y' * 3000}"  # two messages
    await _say_and_reply(services, "telegram", str(gone), reply)
    async with replies_worker():
        await _caught_up(store)
    assert len(telegram.sent(gone)) == 1  # refused, not retried, and the second part held back
    [failed] = await _outcomes(store, names)
    assert failed.type == "notification.failed"
    assert failed.payload.status_code == 400  # type: ignore[attr-defined]
    assert not failed.payload.dead_lettered  # type: ignore[attr-defined]
    assert await store.redis.xlen(names.dead_letters(CONVERSATIONS_TAG, REPLIES_HANDLER)) == 0


async def test_a_reply_given_up_on_is_dead_lettered_and_its_retry_sends_it_once(
    services: Services,
    store: EventStore,
    names: StreamNames,
    telegram: TelegramChats,
    replies_worker: StartWorker,
) -> None:
    telegram.chats.add(CHAT)
    telegram.fail(*[Fault("server_error", status=502)] * 3)  # notify_max_attempts
    await _say_and_reply(services, "telegram", str(CHAT), "BTC <b>is</b> up & away")
    dead = names.dead_letters(CONVERSATIONS_TAG, REPLIES_HANDLER)
    async with replies_worker():

        async def dead_lettered() -> bool:
            return await store.redis.xlen(dead) == 1

        await wait_until(dead_lettered)
        assert telegram.sent(CHAT) == ["BTC &lt;b&gt;is&lt;/b&gt; up &amp; away"] * 3  # 3 tries
        failed = await _outcomes(store, names)
        assert [(e.type, e.payload.dead_lettered) for e in failed] == [  # type: ignore[attr-defined]
            ("notification.failed", True)
        ]
        assert await DeadLetters(store).retry(REPLIES_HANDLER) == 1

        async def sent() -> bool:
            return len(await _outcomes(store, names)) == 2

        await wait_until(sent)
    assert len(telegram.sent(CHAT)) == 4  # the retry's one message, accepted
    assert [e.type for e in await _outcomes(store, names)] == [
        "notification.failed",
        "notification.sent",
    ]
