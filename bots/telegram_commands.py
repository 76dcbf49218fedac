"""What the Telegram bot does with a message addressed to it: commands and chat text.

Commands (``/name`` or ``/name@bot``, arguments after a space):

- ``/start [CODE]``, ``/link [CODE]``: with a code from the API, this chat (and the
  Telegram user) now belongs to the code's user; without one, a linked chat is greeted
  and an unlinked private chat gets a user of its own (`bots.accounts`).
- ``/help``: what the bot does.
- ``/new``: the next messages start a new conversation (thread ``<chat>/<n>``; the
  number is kept in Redis, `bots.keys`), so the agent starts from a clean history.
- ``/notify_on``, ``/notify_off``: alerts the agent creates from now on also come to
  this chat, or no longer (the User aggregate's alert channels).
- ``/price SYMBOL``, ``/alerts``: recorded as the chat message they stand for
  (`bots.commands`), answered by the agent like any message.

Any other command gets an answer naming it and the commands there are; plain text is
recorded as the next turn of the chat's conversation. An unlinked chat is told how to
link, at most once an hour unless it asks (``/start``, ``/link``, ``/help``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

import structlog

from aggregates.channels import Platform, TelegramChannel
from aggregates.errors import DomainError
from aggregates.services.users import Users
from bots import commands
from bots.accounts import ChatAccounts, ChatIdentity
from bots.directory import ChatDirectory, Owner

log = structlog.get_logger(__name__)

PLATFORM: Platform = "telegram"

HELP = (
    "I am Impressox's agent. Ask me anything about the market, for example \"price of"
    ' ETH" or "alert me when BTC goes above 100000". In a group, mention me or reply to'
    " me.\n\n"
    "/price SYMBOL - the latest price\n"
    "/alerts - your alerts\n"
    "/new - start a new conversation\n"
    "/notify_on, /notify_off - alerts you create come to this chat, or no longer\n"
    "/link CODE - use your Impressox account here (code from your account page)\n"
    "/help - this message"
)
ACCOUNT_COMMANDS = frozenset({"start", "link", "help"})
"""Commands that work in a chat nobody linked."""


@dataclass(frozen=True)
class Said:
    """What became of a message: a turn to record (`text`), or an answer to give."""

    text: str | None = None
    answer: str | None = None


def parse(text: str, username: str | None) -> tuple[str, str] | None:
    """``(command, arguments)`` for ``/name[@bot] args``; None for plain text or a
    command addressed to another bot."""
    if not text.startswith("/"):
        return None
    head, _, arguments = text.partition(" ")
    name, _, addressee = head[1:].partition("@")
    if addressee and (username is None or addressee.lower() != username.lower()):
        return None
    return name.lower(), arguments.strip()


class TelegramCommands:
    def __init__(self, users: Users, accounts: ChatAccounts, directory: ChatDirectory) -> None:
        self._users = users
        self._accounts = accounts
        self._directory = directory

    async def account(
        self, command: str, code: str, chat: ChatIdentity, owners: list[Owner], private: bool
    ) -> str:
        """``/start``, ``/link``, ``/help``: the answer (linking or creating on the way)."""
        if command == "help":
            return HELP
        if code:
            return await self._link(code, chat, owners)
        if len(owners) == 1:
            return greeting(owners[0])
        if owners or not private:
            return commands.unlinked("This chat")
        name = f"telegram {chat.external_id}"
        user_id = await asyncio.to_thread(self._accounts.create, name, chat)
        await self._settled(chat, user_id)
        return commands.CREATED

    async def _link(self, code: str, chat: ChatIdentity, owners: list[Owner]) -> str:
        user_id = await asyncio.to_thread(self._accounts.redeem, code)
        if user_id is None:
            return commands.BAD_CODE
        previous = [owner.user_id for owner in owners]
        try:
            await asyncio.to_thread(self._accounts.link, user_id, chat, previous)
        except DomainError as refusal:
            return f"Cannot link: {refusal}"
        await self._settled(chat, user_id)
        return commands.LINKED

    async def _settled(self, chat: ChatIdentity, user_id: UUID) -> None:
        if not await self._directory.settled(chat.platform, chat.chat, user_id):
            log.warning("the users read model is behind the link", chat=str(chat.chat))

    async def linked(self, command: str, arguments: str, owner: Owner, chat_id: int) -> Said:
        """A command in a linked chat: a turn for the agent, or the bot's own answer."""
        if command == "price":
            if not arguments:
                return Said(answer="Which coin? For example: /price ETH")
            return Said(text=commands.price(arguments))
        if command == "alerts":
            return Said(text=commands.ALERTS)
        if command in ("notify_on", "notify_off"):
            return Said(answer=await self._notify(owner.user_id, chat_id, command == "notify_on"))
        if command in ACCOUNT_COMMANDS:
            return Said(answer=HELP if command == "help" else greeting(owner))
        return Said(answer=f"I do not know /{command}.\n\n{HELP}")

    async def _notify(self, user_id: UUID, chat_id: int, on: bool) -> str:
        channel = TelegramChannel(chat_id=chat_id)
        user = await asyncio.to_thread(self._users.load, user_id)
        named = [cid for cid, known in user.channels.items() if known == channel]
        if not named:
            return commands.unlinked("This chat")
        await asyncio.to_thread(self._users.set_alert_channel, user_id, named[0], on)
        if on:
            return "Alerts you create from now on come to this chat too. /notify_off to stop."
        return "Alerts you create from now on no longer come to this chat."


def greeting(owner: Owner) -> str:
    return (
        f"Hi {owner.display_name}! This chat is linked to your Impressox account. Ask me"
        ' anything, for example "price of ETH" or "alert me when BTC goes above 100000".'
        " /help lists the commands."
    )
