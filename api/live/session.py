"""One live client from handshake to close: authentication, subscriptions, sending.

1. Authenticate (`api.live.handshake`): the key is checked as REST checks it.
2. Serve subscribe and unsubscribe messages until the client leaves; a refused
   message gets an error message, and the connection stays open. Each message spends
   from the connection's budget (`MessageBudget`), each subscription also from the
   key's and its user's REST rate limits: a client over either is closed with 4429.
3. A subscription whose queue overflowed drops the client: each topic's cursor goes
   out in a ``dropped`` message (best effort), then the socket closes with 4408.
4. A key revoked while the client is connected closes it with 4401
   (`api.live.registry` says when), its subscriptions stopped first.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from api.context import ApiContext
from api.live import messages
from api.live.budget import MessageBudget
from api.live.cursor import decode_cursor
from api.live.errors import LiveRequestError
from api.live.handshake import TOO_MANY, UNAUTHORIZED, Caller, authenticate, refuse
from api.live.messages import Authenticate, Subscribe, Unsubscribe, parse_message
from api.live.subscriber import ClientGoneError, Subscription
from api.live.topics import resolve_topic
from events.outages import unavailable_dependency

STOP_TIMEOUT_S = 5.0
"""How long a subscription may take to finish the message it is sending when stopped,
and how long a dropped client may take to accept its ``dropped`` messages."""

MAX_SUBSCRIPTIONS = 50
"""Topics one connection may follow at once: each holds a queue of ws_queue_size."""

TOO_SLOW = 4408


async def serve(websocket: WebSocket, context: ApiContext) -> None:
    """Serve one client until it leaves, is refused, dropped or closed."""
    await websocket.accept()
    caller = await authenticate(websocket, context)
    if caller is None:
        return
    session = Session(websocket, context, caller)
    forget = context.sessions.add(session)
    try:
        await session.run()
    finally:
        forget()
        await session.close()


class Session:
    """An authenticated client and its subscriptions, by topic name."""

    def __init__(self, websocket: WebSocket, context: ApiContext, caller: Caller) -> None:
        self.websocket = websocket
        self.context = context
        self.principal = caller.principal
        self.token = caller.token
        self.subscriptions: dict[str, Subscription] = {}
        self._sending = asyncio.Lock()
        self._overflowed = asyncio.Event()
        self._ended = asyncio.Event()
        self._ending: tuple[int, str] = (UNAUTHORIZED, "")
        settings = context.config
        self._budget = MessageBudget(settings.ws_messages_per_minute, settings.ws_message_burst)

    @property
    def key_id(self) -> str:
        return self.principal.key_id

    def revoke(self, reason: str) -> None:
        """Close with 4401 and `reason` as soon as the session's loop sees it."""
        self.end(UNAUTHORIZED, reason)

    def end(self, code: int, reason: str) -> None:
        """Close with `code`: subscriptions stop, the client is told why (the first
        reason given wins)."""
        if not self._ended.is_set():
            self._ending = (code, reason)
            self._ended.set()

    async def send(self, text: str) -> None:
        """Send one frame; frames of several subscriptions never interleave."""
        async with self._sending:
            try:
                await self.websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                raise ClientGoneError from None

    async def run(self) -> None:
        """Serve the client's messages until it leaves, drop it once it falls behind, or
        close it once it must end (`end`)."""
        receiving = asyncio.create_task(self._receive())
        overflowed = asyncio.create_task(self._overflowed.wait())
        ended = asyncio.create_task(self._ended.wait())
        tasks = (receiving, overflowed, ended)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._ended.is_set():
            await self._close_with(*self._ending)
            return
        if self._overflowed.is_set():
            await self._drop()
            return
        failure = None if receiving.cancelled() else receiving.exception()
        if failure is not None:
            raise failure

    async def close(self) -> None:
        """Forget every subscription (the client is gone: nothing to finish sending)."""
        subscriptions = list(self.subscriptions.values())
        self.subscriptions.clear()
        for subscription in subscriptions:
            self._detach(subscription)
            if subscription.task is not None:
                subscription.task.cancel()
        tasks = [s.task for s in subscriptions if s.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not self._budget.take():
                budget = self._budget
                self.end(
                    TOO_MANY,
                    f"over the budget of {budget.per_minute} messages per minute"
                    f" (bursts of {budget.burst}) on one connection",
                )
                return
            try:
                request = _request(message.get("text"))
            except LiveRequestError as refused:
                await self.send(messages.error(str(refused)))
                continue
            topic = None if isinstance(request, Authenticate) else request.topic
            try:
                await self._handle(request)
            except LiveRequestError as refused:
                await self.send(messages.error(str(refused), topic))
            except Exception as error:
                dependency = unavailable_dependency(error)
                if dependency is None:
                    raise
                await self.send(messages.error(f"{dependency} is unavailable; retry", topic))

    async def _handle(self, request: Authenticate | Subscribe | Unsubscribe) -> None:
        if isinstance(request, Subscribe):
            await self._subscribe(request)
        elif isinstance(request, Unsubscribe):
            await self._unsubscribe(request.topic)
        else:
            raise LiveRequestError("this connection is authenticated already")

    async def _subscribe(self, request: Subscribe) -> None:
        """Resolve the topic, attach to the hub, then start sending (see `Subscription`)."""
        if request.topic in self.subscriptions:
            raise LiveRequestError(f"subscribed to {request.topic} already; unsubscribe first")
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise LiveRequestError(f"a connection follows at most {MAX_SUBSCRIPTIONS} topics")
        context = self.context
        verdict = await context.limiter.take(self.principal)
        if not verdict.allowed:
            self.end(TOO_MANY, f"over {verdict.limit}; retry in {verdict.retry_after_s}s")
            return
        topic = await resolve_topic(
            request.topic, self.principal, context.store.names, context.services.conversations
        )
        resume = decode_cursor(request.cursor, topic.stream_set) if request.cursor else {}
        subscription = Subscription(
            topic, context.config.ws_queue_size, on_overflow=self._overflowed.set
        )
        attached_at = await context.hub.attach(subscription)
        if topic.reply_channel is not None:
            try:
                await context.deltas.attach(topic.reply_channel, subscription)
            except BaseException:
                context.hub.detach(subscription)
                raise
        self.subscriptions[topic.name] = subscription
        task = subscription.start(self, context.store, attached_at, resume)
        task.add_done_callback(lambda _: self._forget(subscription))

    async def _unsubscribe(self, topic: str) -> None:
        subscription = self.subscriptions.get(topic)
        if subscription is None:
            raise LiveRequestError(f"not subscribed to {topic}")
        self._forget(subscription)
        await subscription.stop(STOP_TIMEOUT_S)
        await self.send(messages.unsubscribed(topic, subscription.cursor))

    def _forget(self, subscription: Subscription) -> None:
        """Stop feeding a subscription that ended (unsubscribed, or failed on its own)."""
        self._detach(subscription)
        if self.subscriptions.get(subscription.topic.name) is subscription:
            del self.subscriptions[subscription.topic.name]

    def _detach(self, subscription: Subscription) -> None:
        self.context.hub.detach(subscription)
        if subscription.topic.reply_channel is not None:
            self.context.deltas.detach(subscription.topic.reply_channel, subscription)

    async def _close_with(self, code: int, reason: str) -> None:
        """Stop every subscription, then close with `code`, saying why."""
        subscriptions = list(self.subscriptions.values())
        for subscription in subscriptions:
            self._forget(subscription)
        await asyncio.gather(*(s.stop(STOP_TIMEOUT_S) for s in subscriptions))
        await refuse(self.websocket, code, reason)

    async def _drop(self) -> None:
        """Tell a client that fell behind where each topic stopped, then close (4408)."""
        subscriptions = list(self.subscriptions.values())
        for subscription in subscriptions:
            self._forget(subscription)
        await asyncio.gather(*(s.stop(STOP_TIMEOUT_S) for s in subscriptions))
        with contextlib.suppress(ClientGoneError, TimeoutError, WebSocketDisconnect, RuntimeError):
            async with asyncio.timeout(STOP_TIMEOUT_S):
                for subscription in subscriptions:
                    await self.send(messages.dropped(subscription.topic.name, subscription.cursor))
                await self.websocket.close(TOO_SLOW, "too slow; resubscribe with your cursors")


def _request(text: str | None) -> Authenticate | Subscribe | Unsubscribe:
    if text is None:
        raise LiveRequestError("send JSON messages as text frames, not binary ones")
    return parse_message(text)
