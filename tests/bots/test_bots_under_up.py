"""Both chat bots under `impressox up`: started when their tokens are set, named in the
banner, answering, and reported where operators look (`events info`, `/readyz`)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from tests.bots.discord_server import DiscordServer, dm_channel
from tests.bots.servers import TelegramChats
from tests.impressox.cli_support import cli_env, run_cli
from tests.impressox.system import System
from tests.polling import wait_until

STRANGER = "220000000000000002"
CHAT = 5151


@pytest.mark.slow
@pytest.mark.timeout(420)
async def test_up_runs_both_bots_which_answer_and_report_their_health(
    tmp_path: Path, discord: DiscordServer, telegram: TelegramChats
) -> None:
    env = cli_env(
        tmp_path / "data",
        IMPRESSOX_API_PORT="0",
        IMPRESSOX_CHAIN="off",
        IMPRESSOX_DISCORD_BOT_TOKEN=discord.token,
        IMPRESSOX_DISCORD_API_URL=f"{discord.url}/api/v10",
        IMPRESSOX_DISCORD_GATEWAY_URL=discord.gateway_url,
        IMPRESSOX_TELEGRAM_BOT_TOKEN=telegram.token,
        IMPRESSOX_TELEGRAM_API_URL=f"{telegram.url}/bot",
    )
    system = await asyncio.to_thread(System, env)
    try:
        assert "  Bots     telegram, discord\n" in system.banner
        await discord.connected(within=120)
        await discord.dm(STRANGER, "hello")
        await telegram.write(CHAT, "hello")

        async def both_answered() -> bool:
            return bool(discord.sent_to(dm_channel(STRANGER))) and bool(telegram.sent(CHAT))

        await wait_until(both_answered, within=60)

        async def both_report() -> bool:
            info = await asyncio.to_thread(run_cli, env, "events", "info", "--json")
            bots = json.loads(info.stdout)["bots"]
            return all(bots.get(name, {}).get("connected") for name in ("telegram", "discord"))

        await wait_until(both_report, within=60)
        assert (await asyncio.to_thread(system.status, "/readyz"))[0] == 200
        system.process.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(system.process.wait, 90) == 0
    finally:
        await asyncio.to_thread(system.close)
    assert len(discord.sent_to(dm_channel(STRANGER))) == 1  # told once how to link
    assert len(telegram.sent(CHAT)) == 1
