"""A notify worker of the test's own, wired to local Telegram, Discord and webhook servers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import cast

import pytest

from aggregates.services.users import Users
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.services import build_services
from impressox.settings import Settings
from notify.config import NotifyContext
from notify.handler import Notifier
from tests.contexts import Contexts
from tests.handlers.support import FAST, running
from tests.notify.servers import DiscordApi, TelegramBotApi, WebhookReceiver, serving
from tests.notify.support import FakeClock, Sleeps
from tests.readside import isolated_settings

CHAT = 4242
DISCORD_CHANNEL = "123456789012345678"
DISCORD_USER = "223456789012345678"
WEBHOOK_ID, WEBHOOK_TOKEN = "323456789012345678", "hook-token_XYZ"

StartWorker = Callable[[], AbstractAsyncContextManager[Worker]]


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramBotApi]:
    api = TelegramBotApi(chats={CHAT})
    async with serving(api.app(), api):
        yield api


@pytest.fixture
async def discord() -> AsyncIterator[DiscordApi]:
    api = DiscordApi(
        channels={DISCORD_CHANNEL}, users={DISCORD_USER}, webhooks={WEBHOOK_ID: WEBHOOK_TOKEN}
    )
    async with serving(api.app(), api):
        yield api


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def receiver(clock: FakeClock) -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver(clock=clock.timestamp)
    async with serving(hook.app(), hook):
        yield hook


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def overrides() -> dict[str, object]:
    """Settings a test changes (override this fixture in a test module or class)."""
    return {}


@pytest.fixture
def settings(
    *,
    prefix: str,
    tmp_path: Path,
    redis_url: str,
    telegram: TelegramBotApi,
    discord: DiscordApi,
    overrides: dict[str, object],
) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_url,
        "telegram_bot_token": telegram.token,
        "telegram_api_url": f"{telegram.url}/bot",
        "discord_bot_token": discord.token,
        "discord_api_url": f"{discord.url}/api/v10",
        "notify_timeout_s": 0.5,
        "notify_max_attempts": 3,
        "notify_backoff_ms": 10,
        "notify_backoff_max_ms": 40,
        "notify_wait_max_s": 30.0,
        "notify_rate_per_minute": 0,
        "notify_user_cache_s": 0.0,
        "notify_release_interval_s": 0.05,
        # The local receivers stand for users' public ones (see tests/notify/test_ssrf.py
        # for what is refused without this).
        "allowed_destinations": ["127.0.0.1"],
        **overrides,
    }
    return isolated_settings(prefix, tmp_path, **values)


@pytest.fixture
def users(settings: Settings, redis_url: str) -> Iterator[Users]:
    services = build_services(settings, redis_url)
    yield services.users
    services.close()


@pytest.fixture
def notify_worker(
    store: EventStore, contexts: Contexts, settings: Settings, clock: FakeClock, sleeps: Sleeps
) -> StartWorker:
    """Runs a notify worker (real runtime, FAST timings) with the test's clock and sleep."""

    @asynccontextmanager
    async def start() -> AsyncIterator[Worker]:
        spec = dataclasses.replace(
            HANDLERS.get("notify"),
            factory=lambda ctx: Notifier(cast("NotifyContext", ctx), clock=clock, sleep=sleeps),
        )
        worker = Worker(spec, store, FAST, contexts.of(spec.context, settings))
        assert isinstance(worker.handler, Notifier)
        try:
            async with running(worker):
                yield worker
        finally:
            await worker.handler.aclose()

    return start
