"""The live protocol's messages: what clients send (validated), and what they receive.

Client to server, JSON text frames::

    {"type": "auth", "key": "ixk_..."}                  first, unless the handshake had
                                                        `Authorization: Bearer <key>`
    {"type": "subscribe", "topic": "prices:BTC/USDT", "cursor": "<optional>"}
    {"type": "unsubscribe", "topic": "prices:BTC/USDT"}

Server to client: ``authenticated``, ``subscribed`` and ``unsubscribed`` (each with the
topic's cursor), ``event``, ``error`` and ``dropped``. Event messages are assembled
from pieces serialised once per event (see `Arrival`), not re-encoded per client.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from api.live.cursor import MAX_CURSOR_CHARS
from api.live.errors import LiveRequestError
from api.live.topics import MAX_TOPIC_CHARS

MAX_MESSAGE_CHARS = 8192
"""The longest client message read: a subscribe with the longest cursor fits easily."""


class _ClientMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Authenticate(_ClientMessage):
    type: Literal["auth"]
    key: str = Field(min_length=1, max_length=256)


class Subscribe(_ClientMessage):
    type: Literal["subscribe"]
    topic: str = Field(min_length=1, max_length=MAX_TOPIC_CHARS)
    cursor: str | None = Field(default=None, min_length=1, max_length=MAX_CURSOR_CHARS)
    """The cursor of the last message received, to get everything after it first."""


class Unsubscribe(_ClientMessage):
    type: Literal["unsubscribe"]
    topic: str = Field(min_length=1, max_length=MAX_TOPIC_CHARS)


ClientMessage = Annotated[Authenticate | Subscribe | Unsubscribe, Field(discriminator="type")]

_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_message(text: str) -> Authenticate | Subscribe | Unsubscribe:
    """A client's message, or LiveRequestError naming the first offending field."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise LiveRequestError(f"a message has at most {MAX_MESSAGE_CHARS} characters")
    try:
        return _CLIENT_MESSAGE.validate_json(text)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise LiveRequestError(
            f"{where}: {first['msg']} (send JSON such as"
            ' {"type": "subscribe", "topic": "prices:BTC/USDT"})'
        ) from None


# -- to the client -------------------------------------------------------------------------


def _encoded(message: dict[str, object]) -> str:
    return orjson.dumps(message).decode()


def authenticated(user_id: UUID, scopes: frozenset[str]) -> str:
    return _encoded({"type": "authenticated", "user_id": str(user_id), "scopes": sorted(scopes)})


def subscribed(topic: str, cursor: str) -> str:
    return _encoded({"type": "subscribed", "topic": topic, "cursor": cursor})


def unsubscribed(topic: str, cursor: str) -> str:
    return _encoded({"type": "unsubscribed", "topic": topic, "cursor": cursor})


def error(detail: str, topic: str | None = None) -> str:
    message: dict[str, object] = {"type": "error", "detail": detail}
    if topic is not None:
        message["topic"] = topic
    return _encoded(message)


def dropped(topic: str, cursor: str) -> str:
    return _encoded(
        {
            "type": "dropped",
            "topic": topic,
            "cursor": cursor,
            "detail": "too slow; resubscribe with this cursor",
        }
    )


def event(topic_json: str, stream_json: str, position: str, cursor: str, event_json: str) -> str:
    """An event message from pieces already in JSON (a cursor and a position need none)."""
    return (
        '{"type":"event","topic":' + topic_json
        + ',"stream":' + stream_json
        + ',"position":"' + position
        + '","cursor":"' + cursor
        + '","event":' + event_json + "}"
    )  # fmt: skip
