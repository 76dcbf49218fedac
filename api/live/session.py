"""One live client from handshake to close: authentication, subscriptions, sending.

1. Authenticate: an ``Authorization: Bearer`` header on the handshake, else a first
   message ``{"type": "auth", "key": ...}`` within `AUTH_TIMEOUT_S` (browsers cannot
   set headers on a WebSocket). Refusals close with 4000 + the HTTP status the same
   key would get from the REST API (4401, 4403, 4429, and 4503 while Redis is away).
2. Serve subscribe and unsubscribe messages until the client leaves; a refused
   message gets an error message, and the connection stays open.
3. A subscription whose queue overflowed drops the client: each topic's cursor goes
   out in a ``dropped`` message (best effort), then the socket closes with 4408.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import HTTPException, WebSocket
from starlette.websockets import WebSocketDisconnect

from api.auth import principal_of
from api.context import ApiContext
from api.keys import Principal
from api.live import messages
from api.live.cursor import decode_cursor
from api.live.errors import LiveRequestError
from api.live.messages import Authenticate, Subscribe, Unsubscribe, parse_message
from api.live.subscriber import ClientGoneError, Subscription
from api.live.topics import resolve_topic
from api.outages import unavailable_dependency

AUTH_TIMEOUT_S = 10.0
"""How long a client may take to present its key before it is disconnected."""

STOP_TIMEOUT_S = 5.0
"""How long a subscription may take to finish the message it is sending when stopped,
and how long a dropped client may take to accept its ``dropped`` messages."""

MAX_SUBSCRIPTIONS = 50
"""Topics one connection may follow at once: each holds a queue of ws_queue_size."""

UNAUTHORIZED = 4401
FORBIDDEN = 4403
TOO_SLOW = 4408
UNAVAILABLE = 4503
MAX_REASON_BYTES = 123
"""The most a WebSocket close frame's reason may hold (RFC 6455, 5.5)."""


async def serve(websocket: WebSocket, context: ApiContext) -> None:
    """Serve one client until it leaves, is refused, or is dropped."""
    await websocket.accept()
    principal = await _authenticate(websocket, context)
    if principal is None:
        return
    session = Session(websocket, context, principal)
    try:
        await session.run()
    finally:
        await session.close()


async def _authenticate(websocket: WebSocket, context: ApiContext) -> Principal | None:
    """The caller, or None once the connection is closed with the reason why not."""
    token = await _presented_key(websocket)
    if token is None:
        return None
    principal = await _principal(websocket, context, token)
    if principal is None:
        return None
    if "user" not in principal.scopes and not principal.is_admin:
        await _refuse(websocket, FORBIDDEN, "live topics need an API key with the 'user' scope")
        return None
    try:
        await websocket.send_text(messages.authenticated(principal.user_id, principal.scopes))
    except (WebSocketDisconnect, RuntimeError):
        return None  # gone already
    return principal


async def _presented_key(websocket: WebSocket) -> str | None:
    """The key of the handshake's header, else of the first message; None once closed."""
    token = _bearer(websocket.headers.get("authorization"))
    if token is not None:
        return token
    try:
        return await _first_message_key(websocket)
    except LiveRequestError as refused:
        await _refuse(websocket, UNAUTHORIZED, str(refused))
    except WebSocketDisconnect:
        pass
    return None


async def _principal(websocket: WebSocket, context: ApiContext, token: str) -> Principal | None:
    """The key's principal, as REST would find it; None once closed with the refusal."""
    try:
        return await principal_of(context, token)
    except HTTPException as refused:
        await _refuse(websocket, 4000 + refused.status_code, str(refused.detail))
    except Exception as error:
        dependency = unavailable_dependency(error)
        if dependency is None:
            raise
        await _refuse(websocket, UNAVAILABLE, f"{dependency} is unavailable right now; retry")
    return None


def _bearer(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer` header ("" for a header of another kind)."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _first_message_key(websocket: WebSocket) -> str:
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            message = await websocket.receive()
    except TimeoutError:
        raise LiveRequestError(
            f'no API key within {AUTH_TIMEOUT_S:g}s: send {{"type": "auth", "key": ...}} first'
        ) from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    parsed = parse_message(message.get("text") or "")
    if not isinstance(parsed, Authenticate):
        raise LiveRequestError(
            'authenticate first: send {"type": "auth", "key": "ixk_..."} as the first message'
        )
    return parsed.key


async def _refuse(websocket: WebSocket, code: int, detail: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_text(messages.error(detail))
        await websocket.close(code, _reason(detail))


def _reason(detail: str) -> str:
    """`detail` cut to fit a close frame, on a character boundary."""
    encoded = detail.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return detail
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class Session:
    """An authenticated client and its subscriptions, by topic name."""

    def __init__(self, websocket: WebSocket, context: ApiContext, principal: Principal) -> None:
        self.websocket = websocket
        self.context = context
        self.principal = principal
        self.subscriptions: dict[str, Subscription] = {}
        self._sending = asyncio.Lock()
        self._overflowed = asyncio.Event()

    async def send(self, text: str) -> None:
        """Send one frame; frames of several subscriptions never interleave."""
        async with self._sending:
            try:
                await self.websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                raise ClientGoneError from None

    async def run(self) -> None:
        """Serve the client's messages until it leaves, or drop it once it falls behind."""
        receiving = asyncio.create_task(self._receive())
        overflowed = asyncio.create_task(self._overflowed.wait())
        try:
            await asyncio.wait((receiving, overflowed), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiving, overflowed):
                task.cancel()
            await asyncio.gather(receiving, overflowed, return_exceptions=True)
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
        verdict = await context.limiter.take(self.principal.key_id)
        if not verdict.allowed:
            raise LiveRequestError(
                f"rate limit of {context.limiter.per_minute} requests per minute reached;"
                f" retry in {verdict.retry_after_s}s"
            )
        topic = await resolve_topic(
            request.topic, self.principal, context.store.names, context.services.conversations
        )
        resume = decode_cursor(request.cursor, topic.stream_set) if request.cursor else {}
        subscription = Subscription(
            topic, context.settings.ws_queue_size, on_overflow=self._overflowed.set
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
