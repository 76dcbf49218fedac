"""ReplyStream against a real Redis: pieces in order, joined per message, before close."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from redis.asyncio import Redis

from agent.streaming import ReplyStream
from events.names import StreamNames


async def test_pieces_arrive_in_order_joined_per_message_and_all_before_close(
    redis: Redis, names: StreamNames
) -> None:
    channel = names.reply_channel("c1")
    listener = redis.pubsub(ignore_subscribe_messages=True)
    await listener.subscribe(channel)
    stream = ReplyStream(redis, channel, "c1", "m1")
    words = ["Let ", "me ", "check. "]
    for word in words:
        stream.send("a", word)
    stream.send("b", "")  # nothing to say: nothing published
    await asyncio.sleep(0)
    for word in ["BTC ", "is ", "up."]:
        stream.send("b", word)
    await stream.close()

    received: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(received) < stream.pieces:
            message = await listener.get_message(timeout=1)
            if message is not None:  # None: the subscription's confirmation, or nothing yet
                received.append(orjson.loads(message["data"]))
    await listener.aclose()

    assert [piece["seq"] for piece in received] == list(range(1, stream.pieces + 1))
    assert {piece["topic"] for piece in received} == {"conversation:c1"}
    assert {piece["in_reply_to"] for piece in received} == {"m1"}
    by_message: dict[str, str] = {}
    for piece in received:
        by_message[piece["message"]] = by_message.get(piece["message"], "") + piece["text"]
    assert by_message == {"a": "Let me check. ", "b": "BTC is up."}
    assert stream.pieces <= 6  # pieces queued together went out together
