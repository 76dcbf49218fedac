"""The Discord bot: direct messages and mentions, recorded as conversation turns.

``impressox bots discord`` connects to the Discord gateway with discord.py and, for each
message:

1. From a bot (itself or another): ignored. In a guild channel, a message that neither
   mentions our bot nor replies to one of its messages is not for us: ignored (that is
   the documented silence; Discord sends guild messages to every bot in the channel).
2. From a Discord user linked to exactly one Impressox user (`bots.directory`, by the
   ``discord:<user id>`` chat key that ``/link`` records): the text, our mention
   removed, is recorded through the Conversations application, platform ``discord``,
   thread = channel id (a DM is a channel too), message id ``dc:<channel>:<message>``;
   a channel's messages are handled in order, and those that arrived while the previous
   ones were being recorded are recorded together in one commit (`bots.turns`).
   A message the gateway delivers twice (a RESUME replays what the bot had not
   acknowledged) is recorded once. The agent answers from the log and notify sends the
   reply to the same channel as a reply to the message (`notify.reply_delivery`).
3. From anyone else: one answer saying how to link (at most once per `HINT_EVERY_S` per
   user), nothing recorded. A message over `bots.commands.MAX_TEXT`: an answer saying so,
   nothing recorded.

Slash commands (`bots.discord_commands`) are registered at login. Gateway resumes,
reconnects with backoff and the gateway's send limits are discord.py's; REST 429s are
waited out by discord.py (`notify.discord_bot` says how).

Where it connects: ``IMPRESSOX_DISCORD_API_URL`` and ``IMPRESSOX_DISCORD_GATEWAY_URL``.
discord.py reads both from class attributes (``Route.BASE``,
``DiscordWebSocket.DEFAULT_GATEWAY``), which the bot sets before it logs in.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar
from uuid import UUID

import discord
import structlog
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from aggregates.channels import DiscordChannel, Platform
from aggregates.errors import DomainError
from aggregates.services.conversations import Conversations
from bots import commands
from bots.accounts import ChatAccounts, ChatIdentity
from bots.directory import ChatDirectory
from bots.health import BotHealth
from bots.keys import BotKeys
from bots.turns import Turn, TurnWriter
from events.backoff import Backoff
from events.errors import DependencyUnavailableError
from events.names import StreamNames
from events.outages import Outage, outage, redis_unavailable
from events.redis_client import RedisClient

log = structlog.get_logger(__name__)

T = TypeVar("T")

PLATFORM: Platform = "discord"
HINT_EVERY_S = 3600
RETRY_BACKOFF = Backoff(1.0, 30.0)
"""Between tries of a message while a server it needs is away."""


@dataclass(frozen=True)
class DiscordBotConfig:
    api_url: str
    gateway_url: str
    hint_every_s: int = HINT_EVERY_S


@dataclass(frozen=True)
class Collaborators:
    """What the bot uses, built by the composition root."""

    redis: RedisClient
    names: StreamNames
    directory: ChatDirectory
    conversations: Conversations
    accounts: ChatAccounts
    health: BotHealth


def message_id(channel_id: int, discord_message_id: int) -> str:
    """A Discord message's id in its conversation: the same on every delivery."""
    return f"dc:{channel_id}:{discord_message_id}"


def command_id(channel_id: int, interaction_id: int) -> str:
    """A slash command's id in its conversation (not a message: nothing to reply to)."""
    return f"dci:{channel_id}:{interaction_id}"


def point_at(config: DiscordBotConfig) -> None:
    """Send discord.py's REST calls and first gateway connection where configured."""
    Route.BASE = config.api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)


class DiscordBot(discord.Client):
    def __init__(self, parts: Collaborators, config: DiscordBotConfig) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        intents.guild_messages = True
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.1)
        self.parts = parts
        self.config = config
        self.tree = app_commands.CommandTree(self)
        self.connected = asyncio.Event()
        self.turns = TurnWriter(parts.conversations, PLATFORM, parts.health)
        self._backlogs: dict[int, list[discord.Message]] = {}
        """Per channel being handled: the messages it received meanwhile (`on_message`)."""

    async def setup_hook(self) -> None:
        from bots.discord_commands import register  # noqa: PLC0415 - they need the bot

        register(self)
        await self.tree.sync()

    async def on_connect(self) -> None:
        self.parts.health.connected = True
        self.connected.set()

    async def on_resumed(self) -> None:
        self.parts.health.connected = True
        self.connected.set()

    async def on_disconnect(self) -> None:
        self.parts.health.connected = False

    async def on_message(self, message: discord.Message) -> None:
        """Handle the message, and what its channel receives meanwhile, in order.

        discord.py runs each event in a task of its own; a conversation's turns must keep
        the order they were written in, and recording one costs a commit. So the first
        message of a quiet channel handles its channel's backlog: itself, then whatever
        arrived while it was being handled, in batches (`handle_batch`), until none is
        left; a message arriving meanwhile joins the backlog and its task ends.
        """
        if message.author.bot or not self._addressed(message):
            return
        self.parts.health.received()
        channel_id = message.channel.id
        backlog = self._backlogs.get(channel_id)
        if backlog is not None:
            backlog.append(message)
            return
        self._backlogs[channel_id] = backlog = [message]
        try:
            while backlog:
                batch = backlog[:]
                backlog.clear()
                await self.handle_batch(batch)
        finally:
            del self._backlogs[channel_id]

    async def handle_batch(self, batch: list[discord.Message]) -> None:
        """Messages of one channel, in order: each one's answer or turn decided (with its
        own retries: an answer is never sent twice), then the turns recorded together."""
        owners: dict[int, UUID | None] = {}  # the batch's authors looked up once each
        decided: list[tuple[discord.Message, Turn]] = []
        for message in batch:
            turn = await self.until_done(partial(self.decide, message, owners), message.id)
            if turn is not None:
                decided.append((message, turn))
        if not decided:
            return
        turns = [turn for _, turn in decided]
        news = await self.until_done(partial(self.turns.record, turns), decided[0][0].id)
        for (message, turn), new in zip(decided, news or [], strict=False):
            if new:
                log.info(
                    "message recorded",
                    channel_id=message.channel.id,
                    message_id=message.id,
                    user_id=str(turn.user_id),
                )

    async def decide(self, message: discord.Message, owners: dict[int, UUID | None]) -> Turn | None:
        """One message for us: the turn to record, or None once answered why not."""
        text = self._without_mention(message.content).strip()
        bound = log.bind(channel_id=message.channel.id, message_id=message.id)
        if len(text) > commands.MAX_TEXT:
            await self.say(message, commands.too_long(len(text)))
            return None
        author = message.author.id
        if author not in owners:
            owners[author] = await self.owner(author)
        owner = owners[author]
        if owner is None:
            if await self._first_hint(author):
                where = "This account" if self._is_dm(message) else "Your Discord account"
                await self.say(message, commands.unlinked(where))
            bound.info("message from a Discord user nobody linked")
            return None
        if not text:
            await self.say(message, HELP)
            return None
        turn_id = message_id(message.channel.id, message.id)
        return Turn(owner, str(message.channel.id), turn_id, text, message.created_at)

    async def owner(self, author_id: int) -> UUID | None:
        owners = await self.parts.directory.owners(PLATFORM, author_id)
        return owners[0].user_id if len(owners) == 1 else None

    async def record(
        self, user_id: UUID, channel_id: int, turn_id: str, text: str, at: datetime
    ) -> bool:
        """Record one message (a slash command's); whether it was new."""
        [new] = await self.turns.record([Turn(user_id, str(channel_id), turn_id, text, at)])
        return new

    async def link(self, user_id: int, dm_channel: int, code: str) -> str:
        """``/link``: the code's user takes this Discord account; no code, a user of its own."""
        chat = ChatIdentity(PLATFORM, str(user_id), DiscordChannel(target="dm", id=str(user_id)))
        owners = [o.user_id for o in await self.parts.directory.owners(PLATFORM, user_id)]
        accounts = self.parts.accounts
        if not code.strip():
            if owners:
                return "This Discord account is linked already. " + commands.LINK_USAGE
            created = await asyncio.to_thread(accounts.create, f"discord {user_id}", chat)
            await self._settled(chat, created)
            return commands.CREATED
        target = await asyncio.to_thread(accounts.redeem, code)
        if target is None:
            return commands.BAD_CODE
        try:
            await asyncio.to_thread(accounts.link, target, chat, owners)
        except DomainError as refusal:  # the code's user is gone, say
            return f"Cannot link: {refusal}"
        log.info("discord account linked", user_id=str(target), channel_id=dm_channel)
        await self._settled(chat, target)
        return commands.LINKED

    async def _settled(self, chat: ChatIdentity, user_id: UUID) -> None:
        """Answer once the next message would find the account (`ChatDirectory.settled`)."""
        if not await self.parts.directory.settled(PLATFORM, chat.chat, user_id):
            log.warning("the users read model is behind the link", chat=str(chat.chat))

    async def say(self, message: discord.Message, text: str) -> None:
        """Answer in the channel, as a reply; a failure is logged (the user can write again)."""
        try:
            await message.reply(text, mention_author=False)
            self.parts.health.messages_out += 1
        except discord.DiscordException as error:
            self.parts.health.errors += 1
            log.warning(
                "cannot answer in the channel", channel_id=message.channel.id, error=str(error)
            )

    async def until_done(self, work: Callable[[], Awaitable[T]], event_id: int) -> T | None:
        """`work()`, retried while Redis or MongoDB is away (the gateway will not deliver
        the message again on its own); None if it failed otherwise (logged) or the bot
        closed meanwhile."""
        failures = 0
        waiting: Outage | None = None
        while not self.is_closed():
            try:
                done = await work()
            except Exception as error:
                if redis_unavailable(error):
                    waiting = outage("Redis")
                elif isinstance(error, DependencyUnavailableError):
                    waiting = outage(error.dependency or "the Discord bot's read models")
                else:
                    self.parts.health.errors += 1
                    log.exception("cannot handle a Discord event", event_id=event_id)
                    return None
                failures += 1
                waiting.failed(error, event_id=event_id)
                await asyncio.sleep(RETRY_BACKOFF.delay_s(failures))
                continue
            if waiting is not None:
                waiting.succeeded()
            return done
        return None

    def _addressed(self, message: discord.Message) -> bool:
        """A DM, or a guild message that mentions us or replies to us."""
        if self._is_dm(message):
            return True
        me = self.user
        if me is None:
            return False
        if any(user.id == me.id for user in message.mentions):
            return True
        resolved = message.reference.resolved if message.reference is not None else None
        return isinstance(resolved, discord.Message) and resolved.author.id == me.id

    @staticmethod
    def _is_dm(message: discord.Message) -> bool:
        return isinstance(message.channel, discord.DMChannel)

    def _without_mention(self, text: str) -> str:
        if self.user is None:
            return text
        return re.sub(rf"<@!?{self.user.id}>", "", text)

    async def _first_hint(self, author_id: int) -> bool:
        assert self.user is not None
        key = BotKeys(self.parts.names, PLATFORM, self.user.id).hinted(author_id)
        redis = self.parts.redis
        return bool(await redis.set(key, 1, nx=True, ex=self.config.hint_every_s))


HELP = (
    "I am Impressox's agent. Write to me here (in a server, mention me or reply to me):"
    ' "price of ETH", "alert me when BTC goes above 100000", "list my alerts".\n'
    "Commands: /price, /alert, /alerts, /pause, /resume, /link, /help."
)
