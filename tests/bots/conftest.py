"""The bots' tests: a local Bot API and Discord API, the read side, and the workers that
carry a message to the agent and its reply back (real runtime, FAST timings)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest

import agent.handler  # noqa: F401 - registers agent
import notify.replies  # noqa: F401 - registers agent-replies
import projections.readmodels  # noqa: F401 - registers the read models
from aggregates.channels import DiscordChannel
from aggregates.services.bundle import Services
from bots.accounts import ChatAccounts, ChatIdentity
from bots.directory import ChatDirectory
from events.names import StreamNames
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.bots import serve_discord, serve_telegram
from impressox.connections import connect_mongo
from impressox.settings import Settings
from notify.config import RepliesContext
from notify.replies import REPLIES_HANDLER, ReplyNotifier
from projections.reader import ReadModels
from projections.registry import PROJECTIONS
from tests.bots.discord_server import DiscordServer
from tests.bots.servers import TelegramChats
from tests.contexts import Contexts
from tests.handlers.support import FAST, running, wait_until
from tests.notify.servers import serving
from tests.notify.support import Sleeps
from tests.readside import ProjectorThread, isolated_settings

CHAT = 4242
DISCORD_CHANNEL = "123456789012345678"
CONVERSATIONS_TAG = StreamNames.application_tag("conversations")

Start = Callable[[], AbstractAsyncContextManager[None]]
StartWorker = Callable[[], AbstractAsyncContextManager[Worker]]


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramChats]:
    api = TelegramChats()
    async with serving(api.app(), api):
        yield api


@pytest.fixture
async def discord() -> AsyncIterator[DiscordServer]:
    """Discord's REST API and gateway (the notify tests' `DiscordApi` and more)."""
    api = DiscordServer(channels={DISCORD_CHANNEL})
    async with serving(api.app(), api):
        yield api


@pytest.fixture
def settings(
    *,
    prefix: str,
    tmp_path: Path,
    redis_url: str,
    mongo_url: str,
    telegram: TelegramChats,
    discord: DiscordServer,
) -> Settings:
    return isolated_settings(
        prefix,
        tmp_path,
        redis_url=redis_url,
        mongo_url=mongo_url,
        telegram_bot_token=telegram.token,
        telegram_api_url=f"{telegram.url}/bot",
        discord_bot_token=discord.token,
        discord_api_url=f"{discord.url}/api/v10",
        discord_gateway_url=discord.gateway_url,
        notify_timeout_s=0.5,
        notify_max_attempts=3,
        notify_backoff_ms=10,
        notify_backoff_max_ms=40,
    )


@pytest.fixture
def projector(
    settings: Settings, redis_url: str, mongo_url: str, store: EventStore
) -> Iterator[ProjectorThread]:
    """The users and alert rules read models (after `store`: stopped before the test's
    keys are removed, which would fail its partitions)."""
    thread = ProjectorThread(settings, redis_url, mongo_url, names=["users", "alert_rules"]).start()
    yield thread
    thread.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def replies_worker(
    store: EventStore, contexts: Contexts, settings: Settings, sleeps: Sleeps
) -> StartWorker:
    """An agent-replies worker whose retries wait on `sleeps` (recorded, instant)."""

    @asynccontextmanager
    async def start() -> AsyncIterator[Worker]:
        spec = dataclasses.replace(
            HANDLERS.get(REPLIES_HANDLER),
            factory=lambda ctx: ReplyNotifier(cast("RepliesContext", ctx), sleep=sleeps),
        )
        worker = Worker(spec, store, FAST, contexts.of(spec.context, settings))
        async with running(worker):
            yield worker

    return start


@pytest.fixture
def agent_worker(
    store: EventStore, contexts: Contexts, settings: Settings, projector: ProjectorThread
) -> StartWorker:
    @asynccontextmanager
    async def start() -> AsyncIterator[Worker]:
        worker = Worker(HANDLERS.get("agent"), store, FAST, contexts.handler("agent", settings))
        async with running(worker):
            yield worker

    return start


@pytest.fixture
def bot(settings: Settings, redis_url: str, mongo_url: str) -> Start:
    """The Telegram bot as `impressox bots telegram` runs it, until the block ends."""

    @asynccontextmanager
    async def start() -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(serve_telegram(settings, redis_url, mongo_url, stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    return start


@pytest.fixture
def discord_bot(
    settings: Settings, redis_url: str, mongo_url: str, discord: DiscordServer
) -> Start:
    """The Discord bot as `impressox bots discord` runs it, connected, until the block ends."""

    @asynccontextmanager
    async def start() -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(serve_discord(settings, redis_url, mongo_url, stop))
        try:
            await discord.connected()
            await wait_until(lambda: _ready(discord))
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            discord.forget_bot()

    return start


async def _ready(discord: DiscordServer) -> bool:
    return bool(discord.commands)


async def discord_user(services: Services, settings: Settings, author: str) -> UUID:
    """A trader whose Discord account is `author`, once the bots can find it."""
    user_id = await asyncio.to_thread(services.users.register, "Vitalik")
    chat = ChatIdentity("discord", author, DiscordChannel(target="dm", id=author))
    await asyncio.to_thread(ChatAccounts(services.users).link, user_id, chat, [])
    await wait_for_owner(settings, "discord", author, user_id)
    return user_id


async def owners_of(settings: Settings, platform: str, chat: object) -> list[UUID]:
    """Who the bots find for a chat now (the users read model)."""
    assert settings.mongo_url is not None
    mongo = connect_mongo(settings.mongo_url)
    directory = ChatDirectory(ReadModels(mongo[settings.mongo_database], PROJECTIONS.all()))
    try:
        return [owner.user_id for owner in await directory.owners(platform, chat)]
    finally:
        await mongo.close()


async def rules_of(settings: Settings, user_id: UUID) -> list[dict[str, Any]]:
    """The user's alert rules, from the alert_rules read model."""
    assert settings.mongo_url is not None
    mongo = connect_mongo(settings.mongo_url)
    try:
        read_models = ReadModels(mongo[settings.mongo_database], PROJECTIONS.all())
        collection = await read_models.collection("alert_rules")
        return [dict(d) async for d in collection.find({"owner_id": str(user_id)})]
    finally:
        await mongo.close()


async def wait_for_owner(settings: Settings, platform: str, chat: object, user_id: UUID) -> None:
    async def found() -> bool:
        return await owners_of(settings, platform, chat) == [user_id]

    await wait_until(found)


async def linked_user(services: Services, settings: Settings, chat_id: int = CHAT) -> UUID:
    """A trader whose Telegram channel is `chat_id`, once the bots can find it (the users
    read model must be running: the `projector` fixture)."""
    user_id = await asyncio.to_thread(services.users.register, "Satoshi")
    channel = {"channel_id": "telegram", "channel": {"kind": "telegram", "chat_id": chat_id}}
    await asyncio.to_thread(services.users.add_channel, user_id, channel)
    assert settings.mongo_url is not None
    mongo = connect_mongo(settings.mongo_url)
    directory = ChatDirectory(ReadModels(mongo[settings.mongo_database], PROJECTIONS.all()))
    try:

        async def found() -> bool:
            return [o.user_id for o in await directory.owners("telegram", chat_id)] == [user_id]

        await wait_until(found)
    finally:
        await mongo.close()
    return user_id
