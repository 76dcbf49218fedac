"""`impressox bots ...`: the chat bots users talk to the agent through.

``telegram`` runs the Telegram bot (`bots.telegram`) until SIGTERM or Ctrl-C. It needs
``IMPRESSOX_TELEGRAM_BOT_TOKEN`` (none: exit 2, one line) and the running system's Redis
and MongoDB (`impressox up` starts the bot itself when a token is set).
"""

from __future__ import annotations

import asyncio
import signal

import typer

from events.errors import ImpressoxError
from impressox.cli.common import exit_code, fail, require_urls, run, settings_from
from impressox.settings import Settings

app = typer.Typer(help="Chat bots: talk to the agent from Telegram.", no_args_is_help=True)


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


async def _serve(settings: Settings, redis_url: str, mongo_url: str) -> None:
    from impressox.telegram_bot import serve_telegram  # noqa: PLC0415 - python-telegram-bot loads here

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve_telegram(settings, redis_url, mongo_url, stop)
