"""Live events over /v1/ws, against a real uvicorn server and the `websockets` client.

A real server (not the test client) because slow clients and resuming are about what
happens on a real socket: back-pressure, closing codes, reconnecting.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import api.live.handshake
from aggregates.services.bundle import Services
from events.catalog import AlertTriggered, NotificationFailed, NotificationSent, PriceTick
from events.envelope import Event
from events.store import EventStore
from tests import readside
from tests.api.live_server import LiveServer, serving
from tests.readside import ProjectorThread

SYMBOL = "BTC/USDT"
TIMEOUT_S = 10.0
"""How long a test waits for a message it expects (never a measurement)."""

Message = dict[str, Any]


# -- client helpers ---------------------------------------------------------------------------


async def receive(socket: ClientConnection) -> Message:
    return cast(Message, orjson.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_S)))


async def expect(socket: ClientConnection, kind: str) -> Message:
    message = await receive(socket)
    assert message["type"] == kind, message
    return message


@asynccontextmanager
async def client(url: str, token: str, **options: Any) -> AsyncIterator[ClientConnection]:
    """A connection authenticated by its first message, as a browser would."""
    async with connect(url, **options) as socket:
        await socket.send(orjson.dumps({"type": "auth", "key": token}).decode())
        await expect(socket, "authenticated")
        yield socket


async def subscribe(socket: ClientConnection, topic: str, cursor: str | None = None) -> Message:
    request: Message = {"type": "subscribe", "topic": topic}
    if cursor is not None:
        request["cursor"] = cursor
    await socket.send(orjson.dumps(request).decode())
    return await expect(socket, "subscribed")


async def closed_code(socket: ClientConnection) -> tuple[int | None, str | None]:
    """Read until the server closes; the close code and reason it sent."""
    try:
        while True:
            await asyncio.wait_for(socket.recv(), TIMEOUT_S)
    except ConnectionClosed:
        return socket.close_code, socket.close_reason


def tick(price: float, symbol: str = SYMBOL) -> Event:
    payload = PriceTick(symbol=symbol, venue="sim", price=price, source_time=datetime.now(UTC))
    return Event(key=symbol, payload=payload)


def prices(messages: list[Message]) -> list[float]:
    return [message["event"]["payload"]["price"] for message in messages]


async def events(socket: ClientConnection, count: int) -> list[Message]:
    return [await expect(socket, "event") for _ in range(count)]


# -- authentication ---------------------------------------------------------------------------


async def test_no_key_is_refused_with_4401(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.live.handshake, "AUTH_TIMEOUT_S", 0.5)
    async with connect(live.url) as silent:
        assert (await closed_code(silent))[0] == 4401
    async with connect(live.url) as impatient:
        await impatient.send('{"type": "subscribe", "topic": "alerts"}')
        error = await expect(impatient, "error")
        assert "authenticate first" in error["detail"]
        code, reason = await closed_code(impatient)
        assert code == 4401
        assert reason


async def test_a_bad_key_is_refused_with_4401(live: LiveServer) -> None:
    async with connect(live.url) as socket:
        await socket.send('{"type": "auth", "key": "ixk_nothing_nothing"}')
        assert "not valid" in (await expect(socket, "error"))["detail"]
        assert (await closed_code(socket))[0] == 4401
    async with connect(live.url, additional_headers={"Authorization": "Bearer ixk_no"}) as header:
        assert (await closed_code(header))[0] == 4401


async def test_a_key_in_the_handshake_header_is_enough(
    live: LiveServer, user: tuple[UUID, str]
) -> None:
    user_id, token = user
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(live.url, additional_headers=headers) as socket:
        assert (await expect(socket, "authenticated"))["user_id"] == str(user_id)


async def test_an_ingest_key_cannot_follow_topics(
    live: LiveServer, ingester: tuple[UUID, str]
) -> None:
    async with connect(live.url) as socket:
        await socket.send(orjson.dumps({"type": "auth", "key": ingester[1]}).decode())
        assert "'user' scope" in (await expect(socket, "error"))["detail"]
        assert (await closed_code(socket))[0] == 4403


# -- topics -----------------------------------------------------------------------------------


async def test_price_ticks_of_the_symbol_arrive_in_order(
    live: LiveServer, user: tuple[UUID, str], store: EventStore
) -> None:
    async with client(live.url, user[1]) as socket:
        await subscribe(socket, f"prices:{SYMBOL}")
        await store.append_batch("ticks", [tick(1.0), tick(7.0, "ETH/USDT"), tick(2.0)])
        received = await events(socket, 2)
    assert prices(received) == [1.0, 2.0]
    stream = store.names.stream_for_key("ticks", SYMBOL)
    first, second = received
    assert first["topic"] == f"prices:{SYMBOL}"
    assert first["stream"] == stream
    assert first["event"]["type"] == "price.tick"
    assert first["position"] < second["position"]
    assert first["cursor"] != second["cursor"]


async def test_refused_subscriptions_say_why_and_keep_the_connection(
    live: LiveServer, user: tuple[UUID, str], store: EventStore
) -> None:
    async with client(live.url, user[1]) as socket:
        for topic, why in (
            ("prices:btc", "invalid symbol"),
            ("weather", "unknown topic"),
            ("alerts:*", "'admin' scope"),
            (f"conversation:{uuid4()}", "no conversation"),
        ):
            await socket.send(orjson.dumps({"type": "subscribe", "topic": topic}).decode())
            error = await expect(socket, "error")
            assert why in error["detail"], error
            assert error["topic"] == topic
        await socket.send('{"type": "subscribe"}')
        assert (await expect(socket, "error"))["detail"].startswith("subscribe.topic: ")
        await socket.send('{"type": "subscribe", "topic": "alerts", "cursor": "garbage!"}')
        assert "invalid cursor" in (await expect(socket, "error"))["detail"]
        await subscribe(socket, f"prices:{SYMBOL}")
        await store.append("ticks", tick(3.0))
        assert prices(await events(socket, 1)) == [3.0]


def alert(user_id: UUID, subject: str = SYMBOL) -> Event:
    payload = AlertTriggered(
        rule_id=uuid4(),
        user_id=user_id,
        subject=subject,
        condition="crosses_up",
        message=f"{subject} crossed up",
        trigger_event_id=uuid4(),
        triggered_at=datetime.now(UTC),
    )
    return Event(key=subject, payload=payload)


async def test_alerts_reach_only_their_owner(
    live: LiveServer,
    user: tuple[UUID, str],
    other_user: tuple[UUID, str],
    admin: tuple[UUID, str],
    store: EventStore,
) -> None:
    user_id, token = user
    other_id, other_token = other_user
    async with (
        client(live.url, token) as mine,
        client(live.url, other_token) as theirs,
        client(live.url, admin[1]) as everyone,
    ):
        await subscribe(mine, "alerts")
        await subscribe(theirs, "alerts")
        await subscribe(everyone, "alerts:*")
        # Subjects in different partitions: the topic reads every partition of alerts.
        await store.append_batch(
            "alerts", [alert(other_id, "ETH/USDT"), alert(user_id, "SOL/USDT"), alert(user_id)]
        )
        received = await events(mine, 2)
        assert {m["event"]["payload"]["user_id"] for m in received} == {str(user_id)}
        assert {m["event"]["payload"]["subject"] for m in received} == {"SOL/USDT", SYMBOL}
        (their,) = await events(theirs, 1)
        assert their["event"]["payload"]["user_id"] == str(other_id)
        assert len(await events(everyone, 3)) == 3


def notification(user_id: UUID, *, sent: bool = True) -> Event:
    fields: dict[str, Any] = {
        "user_id": user_id,
        "channel_id": "web-1",
        "channel_kind": "web",
        "subject_event_id": uuid4(),
        "text": "BTC/USDT crossed up",
        "at": datetime.now(UTC),
    }
    payload = NotificationSent(**fields) if sent else NotificationFailed(error="gone", **fields)
    return Event(key=str(user_id), payload=payload)


async def test_notifications_reach_only_their_owner(
    live: LiveServer, user: tuple[UUID, str], other_user: tuple[UUID, str], store: EventStore
) -> None:
    user_id, token = user
    async with client(live.url, token) as socket:
        await subscribe(socket, "notifications")
        await store.append_batch(
            "notifications",
            [notification(other_user[0]), notification(user_id, sent=False), notification(user_id)],
        )
        received = await events(socket, 2)
    assert [m["event"]["type"] for m in received] == ["notification.failed", "notification.sent"]
    assert {m["event"]["payload"]["user_id"] for m in received} == {str(user_id)}


async def test_conversation_replies_reach_the_owner_only(
    live: LiveServer,
    user: tuple[UUID, str],
    other_user: tuple[UUID, str],
    services: Services,
) -> None:
    user_id, token = user
    conversations = services.conversations
    conversation_id, _ = await asyncio.to_thread(
        conversations.receive, user_id, "web", "thread-1", {"message_id": "m1", "text": "hi"}
    )
    topic = f"conversation:{conversation_id}"
    async with client(live.url, other_user[1]) as stranger:
        await stranger.send(orjson.dumps({"type": "subscribe", "topic": topic}).decode())
        assert "no conversation" in (await expect(stranger, "error"))["detail"]
    async with client(live.url, token) as socket:
        await subscribe(socket, topic)
        reply = {"reply_id": "r1", "in_reply_to": "m1", "text": "hello"}
        await asyncio.to_thread(conversations.reply, conversation_id, reply)
        (replied,) = await events(socket, 1)
    assert replied["event"]["type"] == "conversation.replied"
    assert replied["event"]["key"] == str(conversation_id)
    assert replied["event"]["payload"]["reply"]["text"] == "hello"


async def test_unsubscribe_stops_the_topic_and_gives_its_cursor(
    live: LiveServer, user: tuple[UUID, str], store: EventStore
) -> None:
    topic = f"prices:{SYMBOL}"
    stream = store.names.stream_for_key("ticks", SYMBOL)
    async with client(live.url, user[1]) as socket:
        await subscribe(socket, topic)
        await store.append("ticks", tick(1.0))
        (received,) = await events(socket, 1)
        await socket.send(orjson.dumps({"type": "unsubscribe", "topic": topic}).decode())
        done = await expect(socket, "unsubscribed")
        assert done["cursor"] == received["cursor"]
        assert live.hub.subscriber_count(stream) == 0
        await store.append("ticks", tick(2.0))  # nobody's: never sent
        await socket.send('{"type": "unsubscribe", "topic": "alerts"}')
        assert "not subscribed" in (await expect(socket, "error"))["detail"]
        await subscribe(socket, topic)
        await store.append("ticks", tick(3.0))
        assert prices(await events(socket, 1)) == [3.0]


# -- resuming ---------------------------------------------------------------------------------


async def test_resuming_with_a_cursor_loses_and_repeats_nothing(
    live: LiveServer, user: tuple[UUID, str], store: EventStore
) -> None:
    topic = f"prices:{SYMBOL}"
    async with client(live.url, user[1]) as socket:
        await subscribe(socket, topic)
        await store.append_batch("ticks", [tick(float(n)) for n in range(1, 11)])
        first = await events(socket, 4)
    assert prices(first) == [1.0, 2.0, 3.0, 4.0]
    await store.append_batch("ticks", [tick(float(n)) for n in range(11, 16)])
    async with client(live.url, user[1]) as again:
        await subscribe(again, topic, cursor=first[-1]["cursor"])
        missed = await events(again, 11)
        assert prices(missed) == [float(n) for n in range(5, 16)]
        await store.append_batch("ticks", [tick(16.0), tick(17.0)])
        assert prices(await events(again, 2)) == [16.0, 17.0]


async def test_resuming_while_ticks_keep_coming(
    live: LiveServer, user: tuple[UUID, str], store: EventStore
) -> None:
    """The switch from backlog to live events, with appends racing it."""
    topic = f"prices:{SYMBOL}"
    async with client(live.url, user[1]) as socket:
        start = await subscribe(socket, topic)
    await store.append_batch("ticks", [tick(float(n)) for n in range(1, 301)])

    async def keep_appending() -> None:
        for n in range(301, 601):
            await store.append("ticks", tick(float(n)))

    async with client(live.url, user[1]) as again:
        appending = asyncio.create_task(keep_appending())
        await subscribe(again, topic, cursor=start["cursor"])
        received = await events(again, 600)
        await appending
    assert prices(received) == [float(n) for n in range(1, 601)]


# -- slow clients -----------------------------------------------------------------------------


@pytest.fixture
def impatient(
    prefix: str, tmp_path: Path, redis_url: str, mongo_url: str, projector: ProjectorThread
) -> Iterator[LiveServer]:
    """A server that queues the fewest messages per client that settings allow."""
    settings = readside.isolated_settings(prefix, tmp_path, ws_queue_size=10)
    with serving(settings, redis_url, mongo_url) as server:
        yield server


def small_window(port: int) -> socket.socket:
    """A client socket with a small receive buffer: a client that stops reading backs
    the server up after kilobytes, not the megabytes loopback buffers grow to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


async def test_a_slow_client_is_dropped_with_its_cursor(
    impatient: LiveServer, user: tuple[UUID, str], store: EventStore
) -> None:
    stream = store.names.stream_for_key("ticks", SYMBOL)
    topic = f"prices:{SYMBOL}"
    sock = small_window(impatient.port)
    async with client(impatient.url, user[1], sock=sock, max_queue=1) as slow:
        subscribed = await subscribe(slow, topic)
        # The client reads nothing now. Ticks come in small batches, never more at once
        # than its queue holds: it overflows only once the socket has backed up.
        appended = 0
        while impatient.hub.subscriber_count(stream) and appended < 100_000:
            await store.append_batch("ticks", [tick(appended + n + 1.0) for n in range(5)])
            appended += 5
        assert impatient.hub.subscriber_count(stream) == 0, "the slow client was never dropped"
        received: list[Message] = []
        while (message := await receive(slow))["type"] == "event":
            received.append(message)
        assert message["type"] == "dropped"
        assert message["topic"] == topic
        assert message["cursor"] == (received[-1] if received else subscribed)["cursor"]
        assert prices(received) == [n + 1.0 for n in range(len(received))]
        assert (await closed_code(slow))[0] == 4408
    async with client(impatient.url, user[1]) as resumed:
        await subscribe(resumed, topic, cursor=message["cursor"])
        missed = await events(resumed, appended - len(received))
        assert prices(missed) == [n + 1.0 for n in range(len(received), appended)]
