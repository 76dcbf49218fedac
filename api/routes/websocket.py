"""Live events over a WebSocket: `/v1/ws` (the protocol is in `api.live`)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from api.context import api_context
from api.live.session import serve

router = APIRouter()


@router.websocket("/ws", name="live")
async def live(websocket: WebSocket) -> None:
    """Authenticate, then subscribe to topics and receive their events as they happen.

    See `api.live.messages` for the messages and `api.live.topics` for the topics.
    """
    await serve(websocket, await api_context(websocket))
