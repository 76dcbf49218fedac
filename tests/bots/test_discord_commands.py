"""The Discord bot's slash commands, and linking a Discord account to an Impressox user
with a one-time code: against the local Discord, with the real agent."""

from __future__ import annotations

import asyncio
from typing import Any

from aggregates.services.bundle import Services
from aggregates.user import User
from bots import commands
from events.store import EventStore
from impressox.settings import Settings
from tests.bots.conftest import (
    Start,
    StartWorker,
    discord_user,
    linked_user,
    owners_of,
    rules_of,
)
from tests.bots.discord_server import DiscordServer
from tests.handlers.support import wait_until
from tests.readside import ProjectorThread

TRADER = "210000000000000001"
COMMANDS = {"price", "alert", "alerts", "pause", "resume", "link", "help"}


def _callback(discord: DiscordServer, interaction: dict[str, Any]) -> dict[str, Any] | None:
    for callback in discord.callbacks:
        if callback["interaction_id"] == interaction["id"]:
            body: dict[str, Any] = callback["body"]
            return body
    return None


async def _answer(discord: DiscordServer, interaction: dict[str, Any]) -> dict[str, Any]:
    async def answered() -> bool:
        return _callback(discord, interaction) is not None

    await wait_until(answered)
    body = _callback(discord, interaction)
    assert body is not None
    return body


async def test_the_commands_are_registered_and_alert_pause_resume_work(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    agent_worker: StartWorker,
) -> None:
    user_id = await discord_user(services, settings, TRADER)
    async with discord_bot(), agent_worker():
        assert {command["name"] for command in discord.commands} == COMMANDS
        interaction = await discord.command(TRADER, "alert", {"condition": "BTC goes above 100000"})
        answer = await _answer(discord, interaction)
        assert answer["data"]["content"] == "Asked: alert me when BTC goes above 100000"

        async def created() -> bool:
            return bool(await rules_of(settings, user_id))

        await wait_until(created)
        await _answer(discord, await discord.command(TRADER, "pause", {"which": "1"}))

        async def paused() -> bool:
            return [rule["status"] for rule in await rules_of(settings, user_id)] == ["paused"]

        await wait_until(paused)
        await _answer(discord, await discord.command(TRADER, "resume"))  # all of them

        async def resumed() -> bool:
            return [rule["status"] for rule in await rules_of(settings, user_id)] == ["active"]

        await wait_until(resumed)


async def test_an_unlinked_user_is_told_how_to_link_and_nothing_is_recorded(
    *,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    store: EventStore,
) -> None:
    async with discord_bot():
        interaction = await discord.command(TRADER, "price", {"symbol": "ETH"})
        answer = await _answer(discord, interaction)
    assert "not linked" in answer["data"]["content"]
    assert answer["data"]["flags"] == 64  # ephemeral: only the user sees it
    log = store.names.notification_log(store.names.application_tag("conversations"))
    assert await store.redis.xlen(log) == 0


async def test_an_unknown_command_is_answered(
    *,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
) -> None:
    async with discord_bot():
        answer = await _answer(discord, await discord.command(TRADER, "frobnicate"))
    assert answer["data"]["content"].startswith("I do not know /frobnicate.")
    assert answer["data"]["flags"] == 64


async def test_a_code_links_discord_to_the_telegram_users_account_once(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    store: EventStore,
) -> None:
    user_id = await linked_user(services, settings)  # a Telegram chat of theirs
    code = (await asyncio.to_thread(services.users.issue_link_code, user_id)).code
    async with discord_bot():
        linked = await _answer(discord, await discord.command(TRADER, "link", {"code": code}))
        again = await _answer(discord, await discord.command(TRADER, "link", {"code": code}))
    assert linked["data"]["content"] == commands.LINKED
    assert again["data"]["content"] == commands.BAD_CODE  # single use
    user: User = await asyncio.to_thread(services.users.load, user_id)
    assert {(i.platform, i.external_id) for i in user.identities} == {("discord", TRADER)}

    async def found() -> bool:
        return await owners_of(settings, "discord", TRADER) == [user_id]

    await wait_until(found)


async def test_an_account_of_its_own_then_linked_elsewhere_moves_the_chat(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    store: EventStore,
) -> None:
    async with discord_bot():
        created = await _answer(discord, await discord.command(TRADER, "link"))
        assert created["data"]["content"] == commands.CREATED

        async def own() -> bool:
            return len(await owners_of(settings, "discord", TRADER)) == 1

        await wait_until(own)
        [first] = await owners_of(settings, "discord", TRADER)
        main = await asyncio.to_thread(services.users.register, "Main account")
        code = (await asyncio.to_thread(services.users.issue_link_code, main)).code
        await _answer(discord, await discord.command(TRADER, "link", {"code": code}))

    async def moved() -> bool:
        return await owners_of(settings, "discord", TRADER) == [main]

    await wait_until(moved)
    previous: User = await asyncio.to_thread(services.users.load, first)
    assert previous.identities == []
    assert set(previous.channels) == {"web"}
