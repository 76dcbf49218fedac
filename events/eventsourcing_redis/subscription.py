"""Following an application's notification log as it grows (`recorder.subscribe()`).

The log is a stream, so a subscription is a blocking XREAD on it: no polling of the
database and no listener thread. Reads block briefly so that `stop()`, called from
another thread, takes effect within a fraction of a second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventsourcing.persistence import ApplicationRecorder, Notification, Subscription

from events.eventsourcing_redis.entries import notification
from events.redis_client import stream_replies

if TYPE_CHECKING:
    from events.eventsourcing_redis.recorders import RedisApplicationRecorder

BLOCK_MS = 200
BATCH = 500


class RedisSubscription(Subscription[ApplicationRecorder]):
    """Notifications with ids above `gt`, then new ones as they are committed."""

    def __init__(
        self, recorder: RedisApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._log_recorder = recorder
        self._log = recorder.names.notification_log(recorder.tag)
        position = recorder.log_position(gt)
        self._after = str(position) if position is not None else "0-0"
        self._wanted = set(topics)
        self._ready: deque[Notification] = deque()

    def __next__(self) -> Notification:
        while not self._has_been_stopped:
            if self._ready:
                return self._ready.popleft()
            reply = self._log_recorder.client.xread(
                {self._log: self._after}, count=BATCH, block=BLOCK_MS
            )
            for _, arrived in stream_replies(reply):
                for entry_id, fields in arrived:
                    self._after = entry_id.decode()
                    note = notification(entry_id, fields)
                    if not self._wanted or note.topic in self._wanted:
                        self._ready.append(note)
        raise StopIteration
