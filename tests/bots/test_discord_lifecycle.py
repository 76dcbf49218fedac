"""The Discord bot is never silent: it exits with one clear line when it cannot connect
(no token, a rejected token, no gateway), stops cleanly on SIGTERM, and reports its
health (connected, messages in and out, errors) where `impressox events info` and
`/readyz` read it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from aggregates.services.bundle import Services
from bots.health import read_health
from events.errors import ConfigurationError, DependencyUnavailableError
from events.store import EventStore
from impressox.bots import serve_discord
from impressox.embedded.process import free_port
from impressox.settings import Settings
from tests.bots.conftest import Start, discord_user
from tests.bots.discord_server import DiscordServer, dm_channel
from tests.handlers.support import wait_until
from tests.impressox.cli_support import REPO, cli_env, run_cli
from tests.readside import ProjectorThread

TRADER = "210000000000000001"
PROCESS_START_S = 60
"""A new process imports discord.py, python-telegram-bot and the aggregates: seconds on
a busy machine."""


def test_without_a_token_it_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(cli_env(tmp_path), "bots", "discord")
    assert result.returncode == 2
    assert result.stderr == "error: no Discord bot token: set IMPRESSOX_DISCORD_BOT_TOKEN\n"


async def test_a_rejected_token_ends_the_process_with_exit_2_and_one_line(
    *, settings: Settings, discord: DiscordServer, tmp_path: Path
) -> None:
    assert settings.redis_url is not None
    assert settings.mongo_url is not None
    env = cli_env(
        tmp_path,
        REDIS_URL=settings.redis_url,
        MONGO_URL=settings.mongo_url,
        IMPRESSOX_STREAM_PREFIX=settings.stream_prefix,
        IMPRESSOX_DISCORD_BOT_TOKEN="not-the-token",
        IMPRESSOX_DISCORD_API_URL=f"{discord.url}/api/v10",
        IMPRESSOX_DISCORD_GATEWAY_URL=discord.gateway_url,
    )
    result = await asyncio.to_thread(run_cli, env, "bots", "discord")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "error: discord: the bot token was rejected (reset or revoked?)"
    )
    assert "not-the-token" not in result.stderr + result.stdout


async def test_no_gateway_is_a_clear_error_after_the_connect_timeout(
    *, settings: Settings, redis_url: str, mongo_url: str
) -> None:
    closed = f"ws://127.0.0.1:{free_port()}/gateway"
    nowhere = settings.model_copy(update={"discord_gateway_url": closed})
    with pytest.raises(DependencyUnavailableError, match="cannot connect to the gateway"):
        await serve_discord(nowhere, redis_url, mongo_url, asyncio.Event(), connect_timeout_s=1)


async def test_a_gateway_refusing_the_token_is_a_configuration_error(
    *, settings: Settings, redis_url: str, mongo_url: str, discord: DiscordServer
) -> None:
    discord.token_accepted_by_gateway = False
    with pytest.raises(ConfigurationError, match="gateway rejected the bot token"):
        await serve_discord(settings, redis_url, mongo_url, asyncio.Event(), connect_timeout_s=5)


async def test_its_health_counts_what_it_received_and_says_when_it_stopped(
    *,
    services: Services,
    settings: Settings,
    projector: ProjectorThread,
    discord: DiscordServer,
    discord_bot: Start,
    store: EventStore,
) -> None:
    await discord_user(services, settings, TRADER)
    async with discord_bot():
        await discord.dm(TRADER, "price of ETH")
        await discord.dm("220000000000000002", "hello?")  # a stranger: told how to link

        async def answered() -> bool:
            return len(discord.sent_to(dm_channel("220000000000000002"))) == 1

        await wait_until(answered)
        await asyncio.sleep(0.3)  # the bot counts the answer once Discord has confirmed it
    [health] = (await read_health(store.redis, store.names)).values()
    assert health["connected"] == "0"  # stopped: said so, not left as connected
    assert (health["messages_in"], health["recorded"], health["messages_out"]) == ("2", "1", "1")
    assert health["errors"] == "0"


async def test_it_stops_cleanly_on_sigterm(
    *, settings: Settings, discord: DiscordServer, tmp_path: Path
) -> None:
    assert settings.redis_url is not None
    assert settings.mongo_url is not None
    env = cli_env(
        tmp_path,
        REDIS_URL=settings.redis_url,
        MONGO_URL=settings.mongo_url,
        IMPRESSOX_STREAM_PREFIX=settings.stream_prefix,
        IMPRESSOX_DISCORD_BOT_TOKEN=discord.token,
        IMPRESSOX_DISCORD_API_URL=f"{discord.url}/api/v10",
        IMPRESSOX_DISCORD_GATEWAY_URL=discord.gateway_url,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "impressox", "bots", "discord", env=env, cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    exited = asyncio.create_task(process.wait())
    connected = asyncio.create_task(discord.connected(within=PROCESS_START_S))
    await asyncio.wait({exited, connected}, return_when=asyncio.FIRST_COMPLETED)
    if not exited.done():
        process.send_signal(signal.SIGTERM)
    stderr = await asyncio.wait_for(process.stderr.read(), 30) if process.stderr else b""
    await asyncio.wait_for(exited, 30)
    assert connected.done()
    assert not connected.exception(), (stderr.decode(), [r.path for r in discord.requests])
    assert process.returncode == 0, stderr.decode()
