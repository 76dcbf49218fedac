"""`impressox bots ...`: the chat bots users talk to the agent through.

``telegram`` runs the Telegram bot (`bots.telegram`) and ``discord`` the Discord bot
(`bots.discord_bot`) until SIGTERM or Ctrl-C. Each needs its token
(``IMPRESSOX_TELEGRAM_BOT_TOKEN``, ``IMPRESSOX_DISCORD_BOT_TOKEN``; none: exit 2, one
line) and the running system's Redis and MongoDB (`impressox up` starts each bot whose
token is set, and restarts it with backoff). A bot that cannot connect exits with one
line: 2 for a rejected token, 1 for a platform it cannot reach.
"""

from __future__ import annotations

import asyncio
import signal

import typer

from events.errors import ImpressoxError
from impressox.cli.common import exit_code, fail, require_urls, run, settings_from
from impressox.settings import Settings

app = typer.Typer(
    help="Chat bots: talk to the agent from Telegram and Discord.", no_args_is_help=True
)


@app.command()
def telegram(ctx: typer.Context) -> None:
    """Record what linked Telegram chats say to the agent (long polling)."""
    settings = settings_from(ctx)
    if settings.telegram_bot_token is None:
        fail("no Telegram bot token: set IMPRESSOX_TELEGRAM_BOT_TOKEN")
    try:
        redis_url, mongo_url = require_urls(settings)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    run(_serve(settings, redis_url, mongo_url))


@app.command()
def discord(ctx: typer.Context) -> None:
    """Record what linked Discord users say to the agent (DMs, mentions, slash commands)."""
    settings = settings_from(ctx)
    if settings.discord_bot_token is None:
        fail("no Discord bot token: set IMPRESSOX_DISCORD_BOT_TOKEN")
    try:
        redis_url, mongo_url = require_urls(settings)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    run(_serve_discord(settings, redis_url, mongo_url))


async def _serve_discord(settings: Settings, redis_url: str, mongo_url: str) -> None:
    from impressox.bots import serve_discord  # noqa: PLC0415 - discord.py loads here

    await serve_discord(settings, redis_url, mongo_url, _stop_on_signals())


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _serve(settings: Settings, redis_url: str, mongo_url: str) -> None:
    from impressox.bots import serve_telegram  # noqa: PLC0415 - python-telegram-bot loads here

    await serve_telegram(settings, redis_url, mongo_url, _stop_on_signals())
