"""Relays the agent's reply tokens to the live clients following a conversation.

The agent publishes each piece of a reply while it writes it (`agent.streaming`)
on the conversation's Pub/Sub channel. This process holds one Pub/Sub connection for
all its clients: a channel is subscribed while at least one subscription follows that
conversation, and a piece is handed to the subscriptions without waiting (a full
queue drops the client, as for events; see `Subscription.offer_text`).

Pub/Sub is the right tool here and streams are not: pieces matter only to whoever is
watching right now, and the reply they add up to is recorded as an event anyway. On a
Redis Cluster a plain (not sharded) PUBLISH reaches the subscribers of every node, so
one connection to the node the URL names is enough.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from api.live.subscriber import Subscription

log = structlog.get_logger(__name__)

RETRY_S = 1.0
"""How long the relay waits after losing Redis before it subscribes again."""
POLL_S = 1.0
"""How long one wait for a message lasts before the relay looks at its channels again."""


class ReplyDeltas:
    """One Pub/Sub connection, and which subscriptions each channel's pieces go to."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pubsub: PubSub | None = None
        self._sinks: dict[str, dict[Subscription, None]] = {}
        self._left: set[str] = set()
        """Channels whose last subscription left: the relay unsubscribes them."""
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def attach(self, channel: str, subscription: Subscription) -> None:
        """Hand the pieces published on `channel` from now on to `subscription`."""
        async with self._lock:
            self._left.discard(channel)
            sinks = self._sinks.get(channel)
            if sinks is None:
                sinks = self._sinks[channel] = {}
                await self._connection().subscribe(channel)
            sinks[subscription] = None
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._relay(), name="live reply deltas")

    def detach(self, channel: str, subscription: Subscription) -> None:
        """Stop at once, without waiting (a session forgets subscriptions in callbacks);
        a channel left without subscriptions is unsubscribed by the relay."""
        sinks = self._sinks.get(channel)
        if sinks is None or subscription not in sinks:
            return
        del sinks[subscription]
        if not sinks:
            del self._sinks[channel]
            self._left.add(channel)

    def following(self, channel: str) -> int:
        """How many subscriptions receive `channel`'s pieces (for tests and metrics)."""
        return len(self._sinks.get(channel, {}))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()

    def _connection(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        return self._pubsub

    async def _relay(self) -> None:
        while self._sinks or self._left:
            try:
                await self._unsubscribe_left()
                message = await self._connection().get_message(timeout=POLL_S)
            except RedisError as error:
                log.warning("reply relay lost Redis; resubscribing", error=str(error))
                await asyncio.sleep(RETRY_S)
                await self._resubscribe()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            text = message["data"]
            name = channel.decode() if isinstance(channel, bytes) else str(channel)
            piece = text.decode() if isinstance(text, bytes) else str(text)
            for subscription in list(self._sinks.get(name, ())):
                subscription.offer_text(piece)

    async def _unsubscribe_left(self) -> None:
        async with self._lock:
            if self._left and self._pubsub is not None:
                await self._pubsub.unsubscribe(*self._left)
            self._left.clear()

    async def _resubscribe(self) -> None:
        async with self._lock:
            if self._pubsub is not None:
                with contextlib.suppress(RedisError):
                    await self._pubsub.aclose()
                self._pubsub = None
            self._left.clear()
            with contextlib.suppress(RedisError):
                if self._sinks:
                    await self._connection().subscribe(*self._sinks)
