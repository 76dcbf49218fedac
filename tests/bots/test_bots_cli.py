"""`impressox bots telegram` as a real process: refuses to start without a token, and
otherwise records what a linked chat writes until SIGTERM, then exits cleanly."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aggregates.conversation import UserMessage, conversation_id
from aggregates.errors import NotFoundError
from aggregates.services.bundle import Services
from impressox.settings import Settings
from tests.bots.conftest import CHAT, linked_user
from tests.bots.servers import TelegramChats
from tests.handlers.support import wait_until
from tests.impressox.cli_support import REPO, cli_env, run_cli
from tests.readside import ProjectorThread


def test_without_a_token_it_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(cli_env(tmp_path), "bots", "telegram")
    assert result.returncode == 2
    assert result.stderr == "error: no Telegram bot token: set IMPRESSOX_TELEGRAM_BOT_TOKEN\n"


async def test_it_records_a_linked_chats_message_and_stops_on_sigterm(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    telegram: TelegramChats,
    tmp_path: Path,
) -> None:
    user_id = await linked_user(services, settings)
    assert settings.redis_url is not None
    assert settings.mongo_url is not None
    env = cli_env(
        tmp_path,
        REDIS_URL=settings.redis_url,
        MONGO_URL=settings.mongo_url,
        IMPRESSOX_STREAM_PREFIX=settings.stream_prefix,
        IMPRESSOX_MONGO_DATABASE=settings.mongo_database,
        IMPRESSOX_TELEGRAM_BOT_TOKEN=telegram.token,
        IMPRESSOX_TELEGRAM_API_URL=f"{telegram.url}/bot",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "impressox", "bots", "telegram", env=env, cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await telegram.write(CHAT, "list my alerts")
        thread = conversation_id(user_id, "telegram", str(CHAT))

        async def recorded() -> bool:
            try:
                conversation = await asyncio.to_thread(services.conversations.load, thread)
            except NotFoundError:
                return False
            return any(isinstance(turn, UserMessage) for turn in conversation.turns)

        await wait_until(recorded)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
