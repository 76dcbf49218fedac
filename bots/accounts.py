"""Whose account a chat is: linking a chat identity to a user, or giving it one of its own.

Linking (``/link CODE`` with a code the user got from the API) records on the User
aggregate the platform identity (the Telegram or Discord user) and a channel naming the
chat the bot talks in, so the bots find the user by that chat (`bots.directory`) and
alerts can be sent there. One user, many platforms: rules, memory and alerts belong to
the user, whichever platform they write from.

A chat that belonged to another user (say one the bot created on request, or another
account) is moved: its channel and identity leave the previous owner first, so the chat
has one owner afterwards. What the previous account owned (its rules) stays with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aggregates.channels import DiscordChannel, Identity, Platform, TelegramChannel
from aggregates.services.users import Users
from aggregates.user import User


@dataclass(frozen=True)
class ChatIdentity:
    """Who writes (`external_id`, the platform's user id) and where the bot answers them."""

    platform: Platform
    external_id: str
    channel: TelegramChannel | DiscordChannel

    @property
    def identity(self) -> Identity:
        return Identity(platform=self.platform, external_id=self.external_id)

    @property
    def chat(self) -> int | str:
        """The chat the bot answers in, as the users read model keys it (`bots.directory`)."""
        return (
            self.channel.chat_id if isinstance(self.channel, TelegramChannel) else self.channel.id
        )

    @property
    def channel_id(self) -> str:
        """The channel's id on the user (``telegram-4242``, ``discord-<user id>``)."""
        return f"{self.platform}-{str(self.chat).replace('-', 'g')}"[:32]


class ChatAccounts:
    def __init__(self, users: Users) -> None:
        self._users = users

    def link(self, user_id: UUID, chat: ChatIdentity, previous_owners: list[UUID]) -> None:
        """Make `chat` the user's (synchronous: call it from a thread)."""
        for owner in previous_owners:
            if owner != user_id:
                self._release(owner, chat)
        user: User = self._users.load(user_id)
        linked = [i for i in user.identities if i.platform == chat.platform]
        if linked and linked[0] != chat.identity:
            self._users.unlink_identity(user_id, chat.platform)
        self._users.link_identity(user_id, chat.identity)
        if not _holds(user, chat):
            self._users.add_channel(
                user_id,
                {"channel_id": chat.channel_id, "channel": chat.channel.model_dump()},
            )

    def redeem(self, code: str) -> UUID | None:
        """The user a linking code was issued to, once (`aggregates.link_code`)."""
        return self._users.redeem_link_code(code)

    def create(self, display_name: str, chat: ChatIdentity) -> UUID:
        """A user of the chat's own, registered with its identity and channel."""
        user_id = self._users.register(display_name[:80] or "trader", chat.identity)
        self._users.add_channel(
            user_id, {"channel_id": chat.channel_id, "channel": chat.channel.model_dump()}
        )
        return user_id

    def _release(self, owner: UUID, chat: ChatIdentity) -> None:
        user: User = self._users.load(owner)
        for channel_id, channel in list(user.channels.items()):
            if channel == chat.channel:
                self._users.remove_channel(owner, channel_id)
        if chat.identity in user.identities:
            self._users.unlink_identity(owner, chat.platform)


def _holds(user: User, chat: ChatIdentity) -> bool:
    return any(channel == chat.channel for channel in user.channels.values())
