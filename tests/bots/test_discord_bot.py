"""The Discord bot against a local Discord (gateway and REST, `DiscordServer`): a DM in,
exactly one reply out, across a RESUME and a restart; what it records and what it
leaves alone.

The bot runs as `impressox bots discord` runs it (`serve_discord`), the agent and the
agent-replies workers as `impressox up` runs them, the users read model by the real
projector.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from aggregates.conversation import AgentReply, Conversation, UserMessage, conversation_id
from aggregates.errors import NotFoundError
from aggregates.services.bundle import Services
from events.store import EventStore
from impressox.settings import Settings
from tests.bots.conftest import Start, StartWorker, discord_user
from tests.bots.discord_server import BOT_ID, DiscordServer, dm_channel
from tests.notify.servers import Fault
from tests.polling import wait_until
from tests.readside import ProjectorThread

TRADER = "210000000000000001"
GUILD = "310000000000000001"
GUILD_CHANNEL = "410000000000000001"
OTHER_BOT = "510000000000000001"


async def _conversation(services: Services, user_id: UUID, channel: str) -> Conversation | None:
    try:
        found: Conversation = await asyncio.to_thread(
            services.conversations.load, conversation_id(user_id, "discord", channel)
        )
    except NotFoundError:
        return None
    return found


async def _messages(services: Services, user_id: UUID, channel: str) -> list[UserMessage]:
    conversation = await _conversation(services, user_id, channel)
    turns = conversation.turns if conversation else []
    return [turn for turn in turns if isinstance(turn, UserMessage)]


async def _replies(services: Services, user_id: UUID, channel: str) -> list[AgentReply]:
    conversation = await _conversation(services, user_id, channel)
    turns = conversation.turns if conversation else []
    return [turn for turn in turns if isinstance(turn, AgentReply)]


def _answers(discord: DiscordServer, channel: str) -> list[dict[str, Any]]:
    return discord.sent_to(channel)


async def _answered(discord: DiscordServer, channel: str, count: int) -> None:
    async def enough() -> bool:
        return len(_answers(discord, channel)) >= count

    await wait_until(enough)


async def test_a_dm_is_recorded_and_answered_once_as_a_reply(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    agent_worker: StartWorker,
    replies_worker: StartWorker,
) -> None:
    user_id = await discord_user(services, settings, TRADER)
    channel = dm_channel(TRADER)
    async with discord_bot(), agent_worker(), replies_worker():
        message = await discord.dm(TRADER, "price of ETH")
        await discord.dispatch("MESSAGE_CREATE", message)  # delivered twice
        await _answered(discord, channel, 1)
        await asyncio.sleep(0.5)  # room for a second answer, which must not come
    [recorded] = await _messages(services, user_id, channel)
    assert recorded.message_id == f"dc:{channel}:{message['id']}"
    assert recorded.text == "price of ETH"
    [answer] = _answers(discord, channel)
    assert answer["message_reference"]["message_id"] == message["id"]
    assert "ETH" in answer["content"]
    assert discord.identifies == 1


async def test_a_message_sent_while_disconnected_arrives_on_resume_and_after_a_restart(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    agent_worker: StartWorker,
    replies_worker: StartWorker,
) -> None:
    user_id = await discord_user(services, settings, TRADER)
    channel = dm_channel(TRADER)
    async with agent_worker(), replies_worker():
        async with discord_bot():
            await discord.disconnect()
            await discord.dm(TRADER, "price of BTC")  # kept for the session
            await discord.connected()
            await _answered(discord, channel, 1)
            assert discord.resumes == 1
        async with discord_bot():  # a new process: IDENTIFY, a new session
            await discord.dm(TRADER, "price of ETH")
            await _answered(discord, channel, 2)
            await asyncio.sleep(0.5)
    assert [m.text for m in await _messages(services, user_id, channel)] == [
        "price of BTC",
        "price of ETH",
    ]
    assert len(await _replies(services, user_id, channel)) == 2
    assert len(_answers(discord, channel)) == 2
    assert discord.identifies == 2


async def test_in_a_guild_only_mentions_and_replies_to_the_bot_are_for_it(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    store: EventStore,
) -> None:
    user_id = await discord_user(services, settings, TRADER)
    stranger = "220000000000000002"
    async with discord_bot():
        await discord.post(GUILD_CHANNEL, TRADER, "gm all", guild_id=GUILD)
        await discord.post(
            GUILD_CHANNEL, TRADER, f"<@{OTHER_BOT}> hi", guild_id=GUILD, mentions=(OTHER_BOT,)
        )
        await discord.post(
            GUILD_CHANNEL, OTHER_BOT, f"<@{BOT_ID}> hi", guild_id=GUILD, mentions=(BOT_ID,),
            author_is_bot=True,
        )  # fmt: skip
        await discord.post(
            GUILD_CHANNEL, stranger, f"<@{BOT_ID}> price of ETH", guild_id=GUILD,
            mentions=(BOT_ID,),
        )  # fmt: skip
        ours = await discord.post(
            GUILD_CHANNEL, TRADER, f"<@{BOT_ID}> price of SOL", guild_id=GUILD, mentions=(BOT_ID,)
        )
        bot_said = {**ours, "id": discord.snowflake(), "author": ours["mentions"][0]}
        await discord.post(GUILD_CHANNEL, TRADER, "and BTC?", guild_id=GUILD, reply_to=bot_said)

        async def both() -> bool:
            return len(await _messages(services, user_id, GUILD_CHANNEL)) == 2

        await wait_until(both)
        await _answered(discord, GUILD_CHANNEL, 1)
    assert [m.text for m in await _messages(services, user_id, GUILD_CHANNEL)] == [
        "price of SOL",
        "and BTC?",
    ]
    [hint] = _answers(discord, GUILD_CHANNEL)  # to the stranger, as a reply
    assert "not linked" in hint["content"]
    assert "/link" in hint["content"]


async def test_an_oversized_message_is_refused_with_an_answer(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
) -> None:
    user_id = await discord_user(services, settings, TRADER)
    channel = dm_channel(TRADER)
    async with discord_bot():
        await discord.dm(TRADER, "x" * 4001)
        await _answered(discord, channel, 1)
    assert "4001 characters" in _answers(discord, channel)[0]["content"]
    assert await _messages(services, user_id, channel) == []


async def test_a_rate_limited_reply_is_sent_once_after_the_wait(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    agent_worker: StartWorker,
    replies_worker: StartWorker,
) -> None:
    await discord_user(services, settings, TRADER)
    channel = dm_channel(TRADER)
    discord.fail(Fault("rate_limited", retry_after=0.05))  # the first post: 429
    async with discord_bot(), agent_worker(), replies_worker():
        await discord.dm(TRADER, "price of BTC")

        async def delivered() -> bool:
            return len(discord.sent_to(channel)) == 2  # refused once, then sent

        await wait_until(delivered)
        await asyncio.sleep(0.5)
    assert len(discord.sent_to(channel)) == 2
    first, second = discord.sent_to(channel)
    assert first == second  # the same reply, tried again after the wait


async def test_a_burst_of_dms_is_recorded_in_order_each_once(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
) -> None:
    """Messages a channel receives while its earlier ones are being recorded are recorded
    together afterwards (`bots.turns`): in the order they were written, each once, even
    when the gateway delivers some twice."""
    user_id = await discord_user(services, settings, TRADER)
    channel = dm_channel(TRADER)
    async with discord_bot():
        for number in range(30):
            message = await discord.dm(TRADER, f"note {number}")
            if number % 7 == 0:
                await discord.dispatch("MESSAGE_CREATE", message)

        async def all_recorded() -> bool:
            return len(await _messages(services, user_id, channel)) >= 30

        await wait_until(all_recorded)
        await asyncio.sleep(0.3)  # room for a duplicate, which must not come
    texts = [m.text for m in await _messages(services, user_id, channel)]
    assert texts == [f"note {number}" for number in range(30)]
