"""One client's subscription to one topic: a bounded queue, and the task that sends it.

1. The session attaches the subscription to the hub: from then on every event of its
   streams that its topic accepts is queued (`offer`).
2. `start` runs its task: it sends ``subscribed``, then everything after the client's
   cursor that the client missed (read from the streams), then the queue.
3. Every message skips what is at or before the last position sent on its stream, so
   the switch from the backlog to live events loses nothing (the hub queued them since
   step 1) and repeats nothing.

Pieces of an agent reply being written (`offer_text`, from `api.live.deltas`) share the
queue, so they reach the client in order with the events and count towards its bound;
they carry no position and leave the cursor alone.

The queue is bounded: when it is full the client reads slower than events arrive, and
the subscription reports `overflowed`; the session then drops the client with the
cursor of what it did receive, instead of buffering without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Protocol

import structlog
from redis.exceptions import RedisError

from api.live import messages
from api.live.arrival import Arrival, json_string
from api.live.cursor import encode_cursor
from api.live.topics import Topic
from events.errors import ImpressoxError
from events.merge import merge_by_position
from events.position import Position
from events.store import EventStore

log = structlog.get_logger(__name__)


class ClientGoneError(Exception):
    """The client disconnected (or was closed) while a message was being sent to it."""


class Sender(Protocol):
    """Sends text frames to one client, one at a time."""

    async def send(self, text: str) -> None:
        """Send one frame; ClientGoneError once the client is gone."""


class Subscription:
    """One topic of one client, from its starting cursor onwards."""

    def __init__(self, topic: Topic, queue_size: int, on_overflow: Callable[[], None]) -> None:
        self.topic = topic
        self.overflowed = False
        self._topic_json = json_string(topic.name)
        self._queue: asyncio.Queue[Arrival | str] = asyncio.Queue(maxsize=queue_size)
        self._on_overflow = on_overflow
        self._sent: dict[str, Position] = {}
        self._task: asyncio.Task[None] | None = None
        self._sending = False
        self._stopping = False

    @property
    def cursor(self) -> str:
        """The cursor of the last message the client was sent."""
        return encode_cursor(self._sent)

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def offer(self, arrival: Arrival) -> None:
        """Queue an arriving event the topic accepts (the hub calls this, never waiting)."""
        if self.overflowed or not self.topic.accepts(arrival.event):
            return
        self._enqueue(arrival)

    def offer_text(self, message: str) -> None:
        """Queue a message that is sent as it is (a piece of a reply being written)."""
        if not self.overflowed:
            self._enqueue(message)

    def _enqueue(self, item: Arrival | str) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            self._on_overflow()

    def start(
        self,
        sender: Sender,
        store: EventStore,
        attached_at: Mapping[str, Position],
        resume_after: Mapping[str, Position],
    ) -> asyncio.Task[None]:
        """Begin sending: the backlog after `resume_after`, then what was queued since the
        hub attached this subscription at `attached_at` (positions per stream)."""
        self._sent = {
            stream: resume_after.get(stream, attached_at[stream]) for stream in attached_at
        }
        self._task = asyncio.create_task(
            self._run(sender, store, dict(resume_after)), name=f"live {self.topic.name}"
        )
        return self._task

    async def stop(self, timeout_s: float) -> None:
        """Stop after the message being sent, if any, so the cursor stays exact.

        Cancelling a send midway would leave unknown whether the client got it; so a
        task that is sending is let finish that message (within `timeout_s`).
        """
        self._stopping = True
        task = self._task
        if task is None or task.done():
            return
        if not self._sending:
            task.cancel()
        _, pending = await asyncio.wait({task}, timeout=timeout_s)
        if pending:
            task.cancel()
            await asyncio.wait(pending)

    async def _run(self, sender: Sender, store: EventStore, resume: dict[str, Position]) -> None:
        with contextlib.suppress(ClientGoneError):
            await sender.send(messages.subscribed(self.topic.name, self.cursor))
            try:
                if resume:
                    await self._replay(sender, store, resume)
            except (RedisError, ImpressoxError) as failure:
                log.warning("live backlog read failed", topic=self.topic.name, error=str(failure))
                await sender.send(
                    messages.error(
                        f"could not read the events you missed ({failure}); subscribe again"
                        " with the cursor of the last message you received",
                        self.topic.name,
                    )
                )
                return
            while not self._stopping:
                item = await self._queue.get()
                if isinstance(item, str):
                    await self._send(sender, item)
                elif item.position > self._sent[item.stream]:
                    await self._deliver(sender, item)

    async def _replay(
        self, sender: Sender, store: EventStore, resume: Mapping[str, Position]
    ) -> None:
        """Send what the client missed after its cursor, in position order."""
        readers = [
            store.read_stream(stream, start=position, types=self.topic.types, strict=False)
            for stream, position in resume.items()
        ]
        async for recorded in merge_by_position(readers):
            if self._stopping:
                return
            if recorded.position <= self._sent[recorded.stream]:
                continue
            if self.topic.accepts(recorded.event):
                stream = recorded.stream
                await self._deliver(
                    sender, Arrival(stream, json_string(stream), recorded.position, recorded.event)
                )

    async def _deliver(self, sender: Sender, arrival: Arrival) -> None:
        sent = {**self._sent, arrival.stream: arrival.position}
        await self._send(sender, arrival.message(self._topic_json, sent))
        self._sent = sent

    async def _send(self, sender: Sender, message: str) -> None:
        self._sending = True
        try:
            await sender.send(message)
        finally:
            self._sending = False
