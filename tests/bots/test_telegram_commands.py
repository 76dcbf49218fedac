"""The Telegram bot's commands and its manners in groups, against the local Bot API:
/start and /link (a user of its own, or linked with a code), /new, /notify_on, /price,
unknown commands; in a group, only what mentions it or replies to it."""

from __future__ import annotations

import asyncio
from uuid import UUID

from redis.asyncio import Redis

from aggregates.conversation import UserMessage, conversation_id
from aggregates.errors import NotFoundError
from aggregates.services.bundle import Services
from aggregates.user import User
from bots import commands
from bots.keys import BotKeys
from events.names import StreamNames
from events.store import EventStore
from impressox.settings import Settings
from tests.bots.conftest import (
    CHAT,
    Start,
    StartWorker,
    discord_user,
    linked_user,
    owners_of,
    rules_of,
    wait_for_owner,
)
from tests.bots.servers import TelegramChats
from tests.polling import wait_until
from tests.readside import ProjectorThread

BOT_ID = 123456
GROUP = -100200300
DISCORD_TRADER = "210000000000000001"


async def _handled(redis: Redis, names: StreamNames, update: dict[str, object]) -> None:
    key = BotKeys(names, "telegram", BOT_ID).offset

    async def stored() -> bool:
        return await redis.get(key) == str(int(update["update_id"]) + 1).encode()  # type: ignore[call-overload]

    await wait_until(stored)


async def _owned(settings: Settings, chat: int) -> bool:
    return len(await owners_of(settings, "telegram", chat)) == 1


async def _texts(services: Services, user_id: UUID, thread: str) -> list[str]:
    try:
        conversation = await asyncio.to_thread(
            services.conversations.load, conversation_id(user_id, "telegram", thread)
        )
    except NotFoundError:
        return []
    return [turn.text for turn in conversation.turns if isinstance(turn, UserMessage)]


async def test_price_new_and_unknown_commands_in_a_linked_chat(
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
        await telegram.write(CHAT, "/price ETH")
        await telegram.write(CHAT, "/frobnicate")
        await telegram.write(CHAT, "/new")
        last = await telegram.write(CHAT, "price of BTC")
        await _handled(redis, names, last)
    assert await _texts(services, user_id, str(CHAT)) == ["price of ETH"]
    assert await _texts(services, user_id, f"{CHAT}/1") == ["price of BTC"]
    unknown, new = telegram.sent(CHAT)
    assert unknown.startswith("I do not know /frobnicate.")
    assert new.startswith("New conversation")


async def test_an_oversized_message_is_answered_and_not_recorded(
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
        await _handled(redis, names, await telegram.write(CHAT, "x" * 4001))
    assert telegram.sent(CHAT) == [commands.too_long(4001)]
    assert await _texts(services, user_id, str(CHAT)) == []


async def test_in_a_group_only_mentions_replies_and_commands_for_it_count(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    redis: Redis,
    names: StreamNames,
) -> None:
    user_id = await linked_user(services, settings, chat_id=GROUP)
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Impressox"}
    chat = {"id": GROUP, "type": "supergroup"}
    ours = {"message_id": 1, "date": 1, "chat": chat, "from": bot_user, "text": "hi"}
    async with bot():
        await telegram.write(GROUP, "gm everyone", group=True, from_id=7)
        await telegram.write(GROUP, "/price@other_bot ETH", group=True, from_id=7)
        await telegram.write(GROUP, "@ix_bot price of SOL", group=True, from_id=7)
        await telegram.write(GROUP, "and BTC?", group=True, from_id=7, reply_to=ours)
        last = await telegram.write(GROUP, "/price@ix_bot ETH", group=True, from_id=7)
        await _handled(redis, names, last)
    assert await _texts(services, user_id, str(GROUP)) == [
        "price of SOL",
        "and BTC?",
        "price of ETH",
    ]
    assert telegram.sent(GROUP) == []


async def test_start_gives_an_unlinked_chat_its_own_user_and_link_moves_it(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    store: EventStore,
    redis: Redis,
    names: StreamNames,
) -> None:
    main = await discord_user(services, settings, DISCORD_TRADER)  # linked on Discord
    stranger = 5151
    async with bot():
        await _handled(redis, names, await telegram.write(stranger, "/start"))
        await wait_until(lambda: _owned(settings, stranger))  # the read model has it
        code = (await asyncio.to_thread(services.users.issue_link_code, main)).code
        await _handled(redis, names, await telegram.write(stranger, f"/link {code}"))
        await _handled(redis, names, await telegram.write(stranger, f"/link {code}"))
        await wait_for_owner(settings, "telegram", stranger, main)
        await _handled(redis, names, await telegram.write(stranger, "/notify_on"))
    assert telegram.sent(stranger) == [
        commands.CREATED,
        commands.LINKED,
        commands.BAD_CODE,
        "Alerts you create from now on come to this chat too. /notify_off to stop.",
    ]
    user: User = await asyncio.to_thread(services.users.load, main)
    assert {(i.platform, i.external_id) for i in user.identities} == {
        ("discord", DISCORD_TRADER),
        ("telegram", str(stranger)),
    }
    assert user.alert_channels == [f"telegram-{stranger}"]
    assert await asyncio.to_thread(services.users.alert_channels, main) == [
        "web",
        f"telegram-{stranger}",
    ]


async def test_a_confirmation_comes_with_buttons_and_a_press_answers_it(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    agent_worker: StartWorker,
    replies_worker: StartWorker,
) -> None:
    user_id = await linked_user(services, settings)
    async with bot(), agent_worker(), replies_worker():
        await telegram.write(CHAT, "alert me when BTC goes above 100000")
        await _replies(telegram, 1)

        async def listed() -> bool:
            return len(await rules_of(settings, user_id)) == 1

        await wait_until(listed)
        await telegram.write(CHAT, "delete alert 1")
        await _replies(telegram, 2)
        assert telegram.buttons(CHAT) == [None, CONFIRM]
        await telegram.press(CHAT, "yes")
        await _replies(telegram, 3)

        async def deleted() -> bool:
            return [rule["status"] for rule in await rules_of(settings, user_id)] == ["deleted"]

        await wait_until(deleted)
    assert telegram.buttons(CHAT)[2] is None  # the answer to the press asks nothing


CONFIRM = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]
    ]
}


async def _replies(telegram: TelegramChats, count: int) -> None:
    async def sent() -> bool:
        return len(telegram.sent(CHAT)) >= count

    await wait_until(sent)


async def test_a_backlog_is_recorded_in_order_with_new_splitting_it_between_threads(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    redis: Redis,
    names: StreamNames,
) -> None:
    """A chat's updates waiting for the bot come in one poll and are recorded together
    (`bots.turns`): still in order, each once, and a ``/new`` among them still starts the
    next thread at its place."""
    user_id = await linked_user(services, settings)
    for text in ("one", "two", "three"):
        await telegram.write(CHAT, text)
    await telegram.write(CHAT, "/new")
    for text in ("four", "five"):
        last = await telegram.write(CHAT, text)
    async with bot():
        await _handled(redis, names, last)
    assert await _texts(services, user_id, str(CHAT)) == ["one", "two", "three"]
    assert await _texts(services, user_id, f"{CHAT}/1") == ["four", "five"]


async def test_link_right_after_start_moves_the_chat_to_the_codes_user(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    redis: Redis,
    names: StreamNames,
) -> None:
    """``/start`` then ``/link CODE`` in one breath (one poll): the link sees the account
    ``/start`` made, so the chat ends with one owner, the code's, not two."""
    main = await discord_user(services, settings, DISCORD_TRADER)
    stranger = 5252
    code = (await asyncio.to_thread(services.users.issue_link_code, main)).code
    await telegram.write(stranger, "/start")
    last = await telegram.write(stranger, f"/link {code}")
    async with bot():
        await _handled(redis, names, last)
        await wait_for_owner(settings, "telegram", stranger, main)
        last = await telegram.write(stranger, "price of ETH")
        await _handled(redis, names, last)
    assert await owners_of(settings, "telegram", stranger) == [main]
    assert telegram.sent(stranger) == [commands.CREATED, commands.LINKED]
    assert await _texts(services, main, str(stranger)) == ["price of ETH"]


async def test_a_deleted_user_s_chat_and_link_codes_no_longer_work(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    bot: Start,
    redis: Redis,
    names: StreamNames,
) -> None:
    chat = 6161
    user_id = await linked_user(services, settings, chat_id=chat)
    code = (await asyncio.to_thread(services.users.issue_link_code, user_id)).code
    await asyncio.to_thread(services.users.delete, user_id)

    async def unowned() -> bool:
        return await owners_of(settings, "telegram", chat) == []

    await wait_until(unowned)  # the bots no longer find the user by the chat
    stranger = 6262
    async with bot():
        await _handled(redis, names, await telegram.write(stranger, f"/link {code}"))
    assert telegram.sent(stranger) == [commands.BAD_CODE]
