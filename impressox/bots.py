"""Running the chat bots: the collaborators they use, built here, and their lives.

``serve_telegram`` long-polls (`bots.telegram`); ``serve_discord`` runs the Discord
bot (`bots.discord_bot`), as follows:

1. Log in over REST (``GET /users/@me``, the application): a rejected token is a
   `ConfigurationError` (exit 2), an API that cannot be reached a
   `DependencyUnavailableError` (exit 1), each one line without the token.
2. Connect to the gateway; the first READY must come within `CONNECT_TIMEOUT_S`, or the
   bot exits with one line saying so (``impressox up`` restarts it with backoff). Once
   connected, discord.py resumes and reconnects by itself.
3. Run until `stop`, publishing health (`bots.health`) all along.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord
from discord.errors import ConnectionClosed

from bots.accounts import ChatAccounts
from bots.directory import ChatDirectory
from bots.discord_bot import Collaborators, DiscordBot, DiscordBotConfig, point_at
from bots.health import BotHealth, HealthPublisher
from bots.telegram import PLATFORM as TELEGRAM
from bots.telegram import QUIETED_LOGGERS as TELEGRAM_QUIETED_LOGGERS
from bots.telegram import TelegramBot, TelegramBotConfig, telegram_client
from bots.telegram_commands import TelegramCommands
from events.errors import ConfigurationError, DependencyUnavailableError
from impressox.connections import connect_mongo, connect_redis
from impressox.endpoints import read_endpoints
from impressox.services import build_services
from impressox.settings import Settings
from projections.reader import ReadModels
from projections.registry import PROJECTIONS

CONNECT_TIMEOUT_S = 30.0
QUIETED_LOGGERS = ("discord",)
"""discord.py logs reconnects at length; ours say what matters."""
TOKEN_REJECTED = 4004


async def serve_discord(
    settings: Settings,
    redis_url: str,
    mongo_url: str,
    stop: asyncio.Event,
    *,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> None:
    """Run the bot of ``IMPRESSOX_DISCORD_BOT_TOKEN`` until `stop` is set."""
    token = settings.discord_bot_token
    if token is None:
        raise ConfigurationError("no Discord bot token: set IMPRESSOX_DISCORD_BOT_TOKEN")
    for name in QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, logger.level))
    config = DiscordBotConfig(settings.discord_api_url, settings.discord_gateway_url)
    point_at(config)
    redis = await connect_redis(redis_url, wait=True)
    mongo = connect_mongo(mongo_url)
    services = build_services(settings, redis_url)
    names = settings.stream_names()
    health = BotHealth("discord")
    parts = Collaborators(
        redis=redis,
        names=names,
        directory=ChatDirectory(ReadModels(mongo[settings.mongo_database], PROJECTIONS.all())),
        conversations=services.conversations,
        accounts=ChatAccounts(services.users),
        health=health,
    )
    bot = DiscordBot(parts, config)
    publisher = HealthPublisher(redis, names, health)
    publishing = asyncio.create_task(publisher.run(stop))
    try:
        await _login(bot, token.get_secret_value(), config)
        await _run(bot, stop, config, connect_timeout_s)
    finally:
        stop.set()
        await bot.close()
        await publishing
        services.close()
        await mongo.close()
        await redis.aclose()


async def _login(bot: DiscordBot, token: str, config: DiscordBotConfig) -> None:
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise ConfigurationError(
            "discord: the bot token was rejected (reset or revoked?)"
        ) from None
    except (aiohttp.ClientError, OSError, discord.HTTPException) as error:
        raise DependencyUnavailableError(
            f"discord: cannot log in at {config.api_url}: {type(error).__name__}",
            dependency="Discord",
        ) from None


async def _run(
    bot: DiscordBot, stop: asyncio.Event, config: DiscordBotConfig, connect_timeout_s: float
) -> None:
    connection = asyncio.create_task(bot.connect(reconnect=True))
    connected = asyncio.create_task(bot.connected.wait())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait(
            {connection, connected, stopping},
            timeout=connect_timeout_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not (connected.done() or stopping.done() or connection.done()):
            raise DependencyUnavailableError(
                f"discord: cannot connect to the gateway at {config.gateway_url}"
                f" within {connect_timeout_s:g}s",
                dependency="Discord",
            )
        if connection.done() and not connected.done():
            raise DependencyUnavailableError(
                f"discord: cannot connect to the gateway at {config.gateway_url}"
                f" ({_reason(connection)})",
                dependency="Discord",
            )
        await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connection.done():
            _raise_for(connection, config)
    finally:
        for task in (connected, stopping):
            task.cancel()
        if not connection.done():
            await bot.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(connection, 10)


def _reason(connection: asyncio.Task[None]) -> str:
    """Why the connection ended: the network error under what discord.py raised (a
    failed first connection surfaces as an AttributeError of its reconnect path)."""
    error = connection.exception()
    if isinstance(error, ConnectionClosed) and error.code == TOKEN_REJECTED:
        raise ConfigurationError("discord: the gateway rejected the bot token")
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError | aiohttp.ClientError):
        cause = cause.__context__
    shown = cause or error
    return f"{type(shown).__name__}: {shown}" if shown else "closed"


def _raise_for(connection: asyncio.Task[None], config: DiscordBotConfig) -> None:
    """The gateway connection ended by itself: say why, in one line."""
    raise DependencyUnavailableError(
        f"discord: the gateway connection at {config.gateway_url} ended ({_reason(connection)})",
        dependency="Discord",
    )


async def serve_telegram(
    settings: Settings, redis_url: str, mongo_url: str, stop: asyncio.Event
) -> None:
    """Run the bot of ``IMPRESSOX_TELEGRAM_BOT_TOKEN`` until `stop` is set."""
    token = settings.telegram_bot_token
    if token is None:
        raise ConfigurationError("no Telegram bot token: set IMPRESSOX_TELEGRAM_BOT_TOKEN")
    for name in TELEGRAM_QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, logger.level))
    running = read_endpoints(settings.run_dir)
    redis = await connect_redis(redis_url, wait=True)
    mongo = connect_mongo(mongo_url)
    services = build_services(settings, redis_url)
    names = settings.stream_names()
    health = BotHealth(TELEGRAM)
    directory = ChatDirectory(ReadModels(mongo[settings.mongo_database], PROJECTIONS.all()))
    client = telegram_client(
        token.get_secret_value(), settings.telegram_api_url, settings.notify_timeout_s
    )
    bot = TelegramBot(
        client,
        redis,
        names,
        directory,
        services.conversations,
        commands=TelegramCommands(services.users, ChatAccounts(services.users), directory),
        health=health,
        config=TelegramBotConfig(api_url=running.api_url if running is not None else None),
    )
    publishing = asyncio.create_task(HealthPublisher(redis, names, health).run(stop))
    try:
        health.connected = True
        await bot.run(stop)
    finally:
        stop.set()
        await publishing
        await bot.aclose()
        services.close()
        await mongo.close()
        await redis.aclose()
