"""Recording what chat users write, a burst of one conversation in one commit.

A bot decides what each message is (a turn for the agent, a command, a message from an
unknown chat) one at a time and in order; recording the turns is what costs, a load and a
commit on the Conversation aggregate. Both bots hand the turns of a chat that were
waiting together (Telegram: one poll's updates of a chat; Discord: the messages a channel
received while its previous ones were being recorded) to `TurnWriter.record`, which
records each run of turns of one conversation with one `Conversations.receive_many`:
under load the cost per message falls as the bursts grow, and a quiet chat's single
message is recorded as soon as it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import groupby
from uuid import UUID

import structlog

from aggregates.channels import Platform
from aggregates.errors import DomainError
from aggregates.services.conversations import Conversations
from bots.health import BotHealth

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Turn:
    """A user's message to record: on whose conversation, in which thread, under which
    id (the platform's message id: the same on every delivery)."""

    user_id: UUID
    thread_id: str
    message_id: str
    text: str
    received_at: datetime

    @property
    def conversation(self) -> tuple[UUID, str]:
        return self.user_id, self.thread_id

    def as_message(self) -> dict[str, object]:
        at = self.received_at
        return {
            "message_id": self.message_id,
            "text": self.text,
            "received_at": at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC),
        }


class TurnWriter:
    """Records turns on their conversations, consecutive turns of one in one commit."""

    def __init__(self, conversations: Conversations, platform: Platform, health: BotHealth) -> None:
        self._conversations = conversations
        self._platform = platform
        self._health = health

    async def record(self, turns: Sequence[Turn]) -> list[bool]:
        """Record `turns` in order; per turn, whether it was new (one delivered twice is
        recorded once). Redis being away raises (the caller waits it out and calls
        again: what was recorded already is then recognised, nothing is recorded twice);
        a turn the aggregate refuses is logged and counted as an error, not raised."""
        news: list[bool] = []
        for _, run in groupby(turns, key=lambda turn: turn.conversation):
            news += await self._record_run(list(run))
        self._health.recorded += sum(news)
        return news

    async def _record_run(self, run: list[Turn]) -> list[bool]:
        try:
            return await self._receive(run)
        except DomainError as refusal:
            if len(run) == 1:
                self._health.errors += 1
                log.warning(
                    "message not recorded", message_id=run[0].message_id, reason=str(refusal)
                )
                return [False]
        # One turn of the run was refused: the others are recorded on their own.
        return [new for turn in run for new in await self._record_run([turn])]

    async def _receive(self, run: list[Turn]) -> list[bool]:
        first = run[0]
        receive = partial(
            self._conversations.receive_many,
            first.user_id,
            self._platform,
            first.thread_id,
            [turn.as_message() for turn in run],
        )
        _, news = await asyncio.to_thread(self._conversations.retrying, receive)
        return news
