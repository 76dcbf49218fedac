"""The Discord bot's slash commands: /price /alert /alerts /pause /resume /link /help.

Registered globally when the bot logs in (``PUT /applications/{id}/commands``). A
command that asks the agent something is recorded as the chat message it stands for
(`bots.commands`), in the conversation of the channel it was used in, keyed by the
interaction's id (a redelivered interaction records nothing new). The interaction is
answered at once ("Asked: price of ETH"); the agent's answer follows in the channel as
any reply does. An unlinked user is told how to link, privately (ephemeral), and so is
a user of a command the bot does not have.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import structlog
from discord import app_commands

from bots import commands
from bots.discord_bot import HELP, DiscordBot, command_id

log = structlog.get_logger(__name__)


def register(bot: DiscordBot) -> None:
    _agent_commands(bot)
    _account_commands(bot)

    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """A command we do not have (registered by an older version, say) or one that
        failed: the user is told, never left with "the application did not respond"."""
        bot.parts.health.errors += 1
        if isinstance(error, app_commands.CommandNotFound):
            text = f"I do not know /{error.name}.\n\n{HELP}"
        else:
            log.error("a command failed", interaction_id=interaction.id, error=str(error))
            text = "Sorry, that went wrong on my side; please try again."
        if not interaction.response.is_done():
            await _answer(bot, interaction, text, True)

    bot.tree.on_error = on_error  # type: ignore[method-assign]


def _agent_commands(bot: DiscordBot) -> None:
    """The commands that are questions for the agent."""
    tree = bot.tree

    async def ask(interaction: discord.Interaction, text: str) -> None:
        bot.parts.health.received()
        channel_id = interaction.channel_id
        owner = await bot.owner(interaction.user.id)
        if owner is None or channel_id is None:
            await _answer(bot, interaction, commands.unlinked("Your Discord account"), True)
            return
        if len(text) > commands.MAX_TEXT:
            await _answer(bot, interaction, commands.too_long(len(text)), True)
            return
        turn_id = command_id(channel_id, interaction.id)
        await bot.record(owner, channel_id, turn_id, text, datetime.now(UTC))
        await _answer(bot, interaction, f"Asked: {text}", False)

    @tree.command(name="price", description="The latest price of a coin")
    @app_commands.describe(symbol="A coin, e.g. ETH or BTC/USDT")
    async def price(interaction: discord.Interaction, symbol: str) -> None:
        await ask(interaction, commands.price(symbol))

    @tree.command(name="alert", description="Create an alert, e.g. BTC goes above 100000")
    @app_commands.describe(condition="When to alert you, e.g. 'ETH drops below 3000'")
    async def alert(interaction: discord.Interaction, condition: str) -> None:
        await ask(interaction, commands.alert(condition))

    @tree.command(name="alerts", description="List your alerts")
    async def alerts(interaction: discord.Interaction) -> None:
        await ask(interaction, commands.ALERTS)

    @tree.command(name="pause", description="Pause alerts: a number, a coin, or all")
    async def pause(interaction: discord.Interaction, which: str = "all") -> None:
        await ask(interaction, commands.pause(which))

    @tree.command(name="resume", description="Resume paused alerts: a number, a coin, or all")
    async def resume(interaction: discord.Interaction, which: str = "all") -> None:
        await ask(interaction, commands.resume(which))


def _account_commands(bot: DiscordBot) -> None:
    """The commands the bot answers itself."""
    tree = bot.tree

    @tree.command(name="link", description="Link this Discord account to your Impressox account")
    @app_commands.describe(code="The code from your account page; none: an account of your own")
    async def link(interaction: discord.Interaction, code: str = "") -> None:
        bot.parts.health.received()
        answer = await bot.link(interaction.user.id, interaction.channel_id or 0, code)
        await _answer(bot, interaction, answer, True)

    @tree.command(name="help", description="What I can do")
    async def help_(interaction: discord.Interaction) -> None:
        bot.parts.health.received()
        await _answer(bot, interaction, HELP, True)


async def _answer(
    bot: DiscordBot, interaction: discord.Interaction, text: str, ephemeral: bool
) -> None:
    try:
        await interaction.response.send_message(text, ephemeral=ephemeral)
        bot.parts.health.messages_out += 1
    except discord.DiscordException as error:
        bot.parts.health.errors += 1
        log.warning("cannot answer a command", interaction_id=interaction.id, error=str(error))
