"""The agent-replies handler: the agent's replies to Telegram chats and Discord channels.

A handler of its own rather than the notify handler's: notify reads the partitioned
``alerts`` category, replies come from the conversations application's log (hash tag
``app.conversations``), and a handler reads one set of hash tags. The runtime commits
a handler's outputs in its input's tag, so the outcomes of replies are appended to
``<prefix>:{app.conversations}:notifications``, atomically with the acknowledgement,
while alert outcomes stay in the partitions.

Like `notify.handler`, the declaration imports nothing heavy: building the
handler imports the delivery machinery (`notify.reply_delivery`).
"""

from __future__ import annotations

import asyncio

from events.envelope import RecordedEvent
from events.names import StreamNames
from handlers.declaration import Output, handler
from notify.clock import Clock, Sleep, utc_now
from notify.config import RepliesContext
from notify.retry import Jitter

REPLIES_HANDLER = "agent-replies"


@handler(
    REPLIES_HANDLER,
    categories=["log"],
    tags=[StreamNames.application_tag("conversations")],
    types=["conversation.replied"],
    context=RepliesContext,
)
class ReplyNotifier:
    """Sends each reply of a Telegram or Discord conversation to its thread, once."""

    def __init__(
        self,
        context: RepliesContext,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        jitter: Jitter | None = None,
    ) -> None:
        from notify.reply_delivery import ReplyDelivery  # noqa: PLC0415 - heavy

        self._delivery = ReplyDelivery.from_context(
            context, clock=clock, sleep=sleep, jitter=jitter
        )

    async def handle(self, recorded: RecordedEvent) -> list[Output]:
        return await self._delivery.handle(recorded)

    async def aclose(self) -> None:
        await self._delivery.aclose()
