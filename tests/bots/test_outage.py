"""The Telegram bot through a Redis outage: it waits for Redis instead of dying, and
takes up the chats where it left them when Redis is back.

The bot runs on a Redis of the test's own (killed with SIGKILL and started again on the
same port with its data, as `impressox up` does) against the local Bot API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from structlog.testing import capture_logs

from bots.keys import BotKeys
from impressox.bots import serve_telegram
from impressox.embedded.redis import EmbeddedRedis
from impressox.settings import Settings
from tests.bots.servers import TelegramChats
from tests.handlers.support import wait_until
from tests.servers import kill

BOT_ID = 123456
STRANGER = 5151


async def test_the_bot_waits_for_redis_and_goes_on_where_it_was(
    settings: Settings,
    mongo_url: str,
    telegram: TelegramChats,
    private_redis: EmbeddedRedis,
    fresh_outages: None,
) -> None:
    redis = Redis.from_url(private_redis.url)
    offset_key = BotKeys(settings.stream_names(), "telegram", BOT_ID).offset

    async def handled(update: dict[str, Any]) -> bool:
        stored = await redis.get(offset_key)
        return stored is not None and int(stored) == int(update["update_id"]) + 1

    stop = asyncio.Event()
    with capture_logs() as logs:
        bot = asyncio.create_task(serve_telegram(settings, private_redis.url, mongo_url, stop))
        first = await telegram.write(STRANGER, "hi")
        await wait_until(lambda: handled(first))
        kill(private_redis)
        await telegram.write(STRANGER, "/start")  # answered, but its offset cannot be stored
        await wait_until(lambda: _said(logs, "Redis unavailable; waiting for it"))
        assert not bot.done(), "the bot died while Redis was away"
        private_redis.start()
        last = await telegram.write(STRANGER, "hello?")
        await wait_until(lambda: handled(last))
        stop.set()
        await asyncio.wait_for(bot, 30)
    await redis.aclose()
    assert len(telegram.sent(STRANGER)) == 2  # "hi" and /start: each answered once
    assert await _said(logs, "Redis is back")


async def test_the_bot_stopped_while_redis_is_away_stops(
    settings: Settings,
    mongo_url: str,
    telegram: TelegramChats,
    private_redis: EmbeddedRedis,
    fresh_outages: None,
) -> None:
    stop = asyncio.Event()
    with capture_logs() as logs:
        bot = asyncio.create_task(serve_telegram(settings, private_redis.url, mongo_url, stop))
        await wait_until(lambda: _said(logs, "telegram bot polling"))
        kill(private_redis)
        await telegram.write(STRANGER, "/start")  # answered; its offset cannot be stored
        await wait_until(lambda: _said(logs, "Redis unavailable; waiting for it"))
        stop.set()
        await asyncio.wait_for(bot, 30)  # returns: no error, no wait for Redis


async def _said(logs: Sequence[Mapping[str, Any]], event: str) -> bool:
    return any(line["event"] == event for line in logs)
