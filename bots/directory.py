"""Who a chat belongs to: the users whose channels name it, from the users read model.

The read model keeps each user's Telegram chats and Discord targets in one indexed
field (`projections.readmodels.users.CHATS`), so finding the owner of a chat is one
indexed query. It follows the users' log within a moment, so a chat linked through the
API is known to the bots as soon as the read model has it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID

from pymongo.errors import PyMongoError

from events.errors import DependencyUnavailableError
from projections.reader import ReadModels
from projections.readmodels.users import CHATS, Users, chat_key

OWNERS_LISTED = 2
"""Enough to tell one owner from several."""
SETTLE_WITHIN_S = 5.0
"""How long a link or a new account may take to reach the read model before the bot
answers anyway (it follows the users' log within a moment)."""
SETTLE_POLL_S = 0.05


@dataclass(frozen=True)
class Owner:
    user_id: UUID
    display_name: str


class ChatDirectory:
    def __init__(self, read_models: ReadModels) -> None:
        self._read_models = read_models

    async def owners(self, platform: str, chat: object) -> list[Owner]:
        """The users (at most two) who registered this chat as a channel."""
        try:
            collection = await self._read_models.collection(Users.name)
            cursor = collection.find(
                {CHATS: chat_key(platform, chat)}, {"display_name": 1}, limit=OWNERS_LISTED
            )
            documents = await cursor.to_list()
        except PyMongoError as error:
            raise DependencyUnavailableError(f"cannot read the users read model: {error}") from None
        return [Owner(UUID(str(d["_id"])), str(d.get("display_name", ""))) for d in documents]

    async def settled(
        self, platform: str, chat: object, user_id: UUID, within_s: float = SETTLE_WITHIN_S
    ) -> bool:
        """Wait until the read model names `user_id` as the chat's one owner: a bot
        answers a link or a new account once the next message would find it (a ``/link``
        sent right after ``/start`` would otherwise see no owner yet, and leave the chat
        with two). False if it did not within `within_s` (the answer goes out anyway)."""
        deadline = time.monotonic() + within_s
        while True:
            owners = await self.owners(platform, chat)
            if [owner.user_id for owner in owners] == [user_id]:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(SETTLE_POLL_S)
