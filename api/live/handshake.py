"""A live client's handshake: which key it presents, and whether that key may follow topics.

The key comes in an ``Authorization: Bearer`` header on the handshake, else in a first
message ``{"type": "auth", "key": ...}`` within `AUTH_TIMEOUT_S` (browsers cannot set
headers on a WebSocket). It is checked exactly as REST checks it (`principal_of`: the
key, its rate limits), so refusals close with 4000 + the HTTP status the same key would
get from the REST API: 4401, 4403, 4429, and 4503 while a dependency is away.

A handshake without a key in its header pays one token of its client address's bucket
(`RateLimiter.take_anonymous`, REST's bucket for requests without a valid key) before
the server waits for the first message: 4429 at once when the bucket is empty, so a
client cannot hold more sockets open waiting than it could send requests without a
key. A key presented then that turns out invalid costs nothing more; one in the header
pays only when it is invalid, as in REST.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from fastapi import HTTPException, WebSocket
from starlette.websockets import WebSocketDisconnect

from api.auth import client_address, principal_of, too_many
from api.context import ApiContext
from api.keys import Principal
from api.live import messages
from api.live.errors import LiveRequestError
from api.live.messages import Authenticate, parse_message
from events.outages import unavailable_dependency

AUTH_TIMEOUT_S = 10.0
"""How long a client may take to present its key before it is disconnected."""

UNAUTHORIZED = 4401
FORBIDDEN = 4403
TOO_MANY = 4429
UNAVAILABLE = 4503
MAX_REASON_BYTES = 123
"""The most a WebSocket close frame's reason may hold (RFC 6455, 5.5)."""


@dataclass(frozen=True)
class Caller:
    """An authenticated client: who it is, and the key it keeps being checked with."""

    principal: Principal
    token: str


async def authenticate(websocket: WebSocket, context: ApiContext) -> Caller | None:
    """The caller, or None once the connection is closed with the reason why not."""
    token = _bearer(websocket.headers.get("authorization"))
    address_paid = False
    if token is None:
        # No key in the handshake: the socket may be held AUTH_TIMEOUT_S waiting for one,
        # so its address pays now, as a REST request without a valid key does (4429 when
        # its bucket is empty, before any waiting).
        if not await _charge_address(websocket, context):
            return None
        address_paid = True
        token = await _first_message_key_or_close(websocket)
        if token is None:
            return None
    principal = await _principal(websocket, context, token, address_paid=address_paid)
    if principal is None:
        return None
    if "user" not in principal.scopes and not principal.is_admin:
        await refuse(websocket, FORBIDDEN, "live topics need an API key with the 'user' scope")
        return None
    try:
        await websocket.send_text(messages.authenticated(principal.user_id, principal.scopes))
    except (WebSocketDisconnect, RuntimeError):
        return None  # gone already
    return Caller(principal, token)


async def refuse(websocket: WebSocket, code: int, detail: str) -> None:
    """Say why in an error message, then close with `code` (best effort: it may be gone)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_text(messages.error(detail))
        await websocket.close(code, _reason(detail))


async def _charge_address(websocket: WebSocket, context: ApiContext) -> bool:
    """Take a token from the client address's bucket; False once closed with 4429 (or
    4503 while Redis is away)."""
    try:
        verdict = await context.limiter.take_anonymous(client_address(websocket))
    except Exception as error:
        dependency = unavailable_dependency(error)
        if dependency is None:
            raise
        await refuse(websocket, UNAVAILABLE, f"{dependency} is unavailable right now; retry")
        return False
    if not verdict.allowed:
        await refuse(websocket, TOO_MANY, str(too_many(verdict).detail))
        return False
    return True


async def _first_message_key_or_close(websocket: WebSocket) -> str | None:
    """The key of the first message; None once closed (4401 for no key in time)."""
    try:
        return await _first_message_key(websocket)
    except LiveRequestError as refused:
        await refuse(websocket, UNAUTHORIZED, str(refused))
    except WebSocketDisconnect:
        pass
    return None


async def _principal(
    websocket: WebSocket, context: ApiContext, token: str, *, address_paid: bool
) -> Principal | None:
    """The key's principal, as REST would find it; None once closed with the refusal."""
    try:
        return await principal_of(
            context, token, client_address(websocket), address_paid=address_paid
        )
    except HTTPException as refused:
        await refuse(websocket, 4000 + refused.status_code, str(refused.detail))
    except Exception as error:
        dependency = unavailable_dependency(error)
        if dependency is None:
            raise
        await refuse(websocket, UNAVAILABLE, f"{dependency} is unavailable right now; retry")
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


def _reason(detail: str) -> str:
    """`detail` cut to fit a close frame, on a character boundary."""
    encoded = detail.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return detail
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."
