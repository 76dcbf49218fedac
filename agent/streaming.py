"""A reply's text on its way to live clients, token by token, before it is recorded.

Tokens are not events: the reply is (``conversation.replied``), and it is the one
thing a client must keep. While the model writes, each piece of text is published on
the conversation's Pub/Sub channel (`StreamNames.reply_channel`); every API process
with a client following that conversation relays it (`api.live.deltas`). A client
that connects mid-reply misses the pieces before, never the reply.

A piece names the model message it belongs to (``message``): a model may write a few
words, call a tool, then write its answer, and a client shows the newest message.

Publishing is off the turn's path: `send` queues, and one task publishes what has
queued, joining the pieces of one message that arrived while it waited for Redis. A
model writing slower than Redis answers (any real one) gets a piece per token; a burst
(the offline model writes its whole answer at once) costs a publish or two, not one a
word. `close` waits for the last piece, so pieces always precede the recorded reply.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import structlog
from redis.exceptions import RedisError

from events.redis_client import RedisClient

log = structlog.get_logger(__name__)


class ReplyStream:
    """Publishes the pieces of one reply, numbered in order (``seq`` from 1)."""

    def __init__(
        self, redis: RedisClient, channel: str, conversation_id: str, in_reply_to: str
    ) -> None:
        self._redis = redis
        self._channel = channel
        self._head = {
            "type": "delta",
            "topic": f"conversation:{conversation_id}",
            "in_reply_to": in_reply_to,
        }
        self._seq = 0
        self._queued: list[tuple[str, str]] = []
        self._publisher: asyncio.Task[None] | None = None
        self._failed = False

    @property
    def pieces(self) -> int:
        """How many pieces were published."""
        return self._seq

    def send(self, message_id: str, text: str) -> None:
        """Queue a piece of `message_id`'s text; never waits."""
        if not text or self._failed:
            return
        self._queued.append((message_id, text))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish(), name="reply stream")

    async def close(self) -> None:
        """Wait until every queued piece is published (or publishing failed)."""
        if self._publisher is not None:
            await self._publisher

    async def _publish(self) -> None:
        while self._queued and not self._failed:
            queued, self._queued = self._queued, []
            for message_id, text in _joined(queued):
                self._seq += 1
                piece: dict[str, Any] = {**self._head, "message": message_id, "seq": self._seq}
                piece["text"] = text
                try:
                    await self._redis.publish(self._channel, orjson.dumps(piece))
                except RedisError as error:  # the recorded reply still reaches every client
                    self._failed = True
                    log.warning("reply streaming stopped", channel=self._channel, error=str(error))
                    return


def _joined(queued: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive pieces of one message as one."""
    joined: list[tuple[str, str]] = []
    for message_id, text in queued:
        if joined and joined[-1][0] == message_id:
            joined[-1] = (message_id, joined[-1][1] + text)
        else:
            joined.append((message_id, text))
    return joined
