"""The Telegram bot as a process runs it: built here, from the settings, once.

`bots.telegram` is the bot; this is its wiring (clients, the conversations' service,
the users' read model, the API's URL from the running system's endpoints).
"""

from __future__ import annotations

import asyncio
import logging

from aggregates.services.conversations import Conversations
from bots.directory import ChatDirectory
from bots.telegram import QUIETED_LOGGERS, TelegramBot, TelegramBotConfig, telegram_client
from events.errors import ConfigurationError
from impressox.connections import connect_mongo, connect_redis
from impressox.endpoints import read_endpoints
from impressox.services import eventsourcing_env
from impressox.settings import Settings
from projections.reader import ReadModels
from projections.registry import PROJECTIONS


async def serve_telegram(
    settings: Settings, redis_url: str, mongo_url: str, stop: asyncio.Event
) -> None:
    """Run the bot of ``IMPRESSOX_TELEGRAM_BOT_TOKEN`` until `stop` is set."""
    token = settings.telegram_bot_token
    if token is None:
        raise ConfigurationError("no Telegram bot token: set IMPRESSOX_TELEGRAM_BOT_TOKEN")
    for name in QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, logger.level))
    running = read_endpoints(settings.run_dir)
    redis = await connect_redis(redis_url, wait=True)
    mongo = connect_mongo(mongo_url)
    conversations = Conversations(eventsourcing_env(settings, redis_url))
    client = telegram_client(
        token.get_secret_value(), settings.telegram_api_url, settings.notify_timeout_s
    )
    bot = TelegramBot(
        client,
        redis,
        settings.stream_names(),
        ChatDirectory(ReadModels(mongo[settings.mongo_database], PROJECTIONS.all())),
        conversations,
        config=TelegramBotConfig(api_url=running.api_url if running is not None else None),
    )
    try:
        await bot.run(stop)
    finally:
        await bot.aclose()
        conversations.close()
        await mongo.close()
        await redis.aclose()
