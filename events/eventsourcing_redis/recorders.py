"""The four recorders of the `eventsourcing` library, on Redis Streams.

Everything one application records lives under one hash tag (``{app.<name>}``):

    ix:{app.rules}:agg.<originator id>    one aggregate's events (common envelope)
    ix:{app.rules}:snap.<originator id>   its snapshots
    ix:{app.rules}:log                    the notification log: every event, commit order
    ix:{app.rules}:log:index              notification id -> millisecond of its position
    ix:{app.rules}:tracking               last notification id processed, per upstream

A log entry's position is ``<ms>-<N>``: N is its notification id and ms when it was
committed, so a notification id names a stream position, and so a time. Inserts are one
script (`scripts/insert.lua`): checks first, then writes, so a conflict writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    DatabaseError,
    IntegrityError,
    Notification,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from events.codec import VERSION
from events.eventsourcing_redis.entries import entry_values, notification, stored_event
from events.eventsourcing_redis.subscription import RedisSubscription
from events.lua import pack, register
from events.names import StreamNames
from events.position import Position
from events.redis_client import SyncRedisClient, entries

PAGE = 500

STREAM_KINDS = {"events": "agg", "snapshots": "snap"}
"""Stream kind of each recorder purpose the library asks for."""


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Redis errors as the library's PEP 249-style ones, so applications can tell them."""
    try:
        yield
    except ResponseError as error:
        message = str(error)
        if message.startswith("IXINTEGRITY "):
            raise IntegrityError(message.removeprefix("IXINTEGRITY ")) from None
        raise DatabaseError(message) from error
    except (RedisConnectionError, RedisTimeoutError) as error:
        raise OperationalError(str(error)) from error
    except RedisError as error:
        raise DatabaseError(str(error)) from error


class RedisRecorder:
    """What every recorder of one application shares: the client and the key names."""

    def __init__(self, client: SyncRedisClient, names: StreamNames, tag: str) -> None:
        self.client = client
        self.names = names
        self.tag = tag
        self._insert = register(client, "events.eventsourcing_redis", "insert")

    def _run_insert(
        self,
        events: Sequence[StoredEvent],
        *,
        kind: str,
        with_log: bool,
        tracking: Tracking | None = None,
    ) -> list[int]:
        streams: dict[str, int] = {}
        packed: list[Any] = []
        rows = entry_values(list(events), tag=self.tag, kind=kind)
        for event, values in zip(events, rows, strict=True):
            stream = self.names.aggregate_stream(self.tag, kind, str(event.originator_id))
            packed.append(streams.setdefault(stream, len(streams) + 1))
            packed += values
        keys = [
            self.names.notification_log(self.tag),
            self.names.notification_index(self.tag),
            self.names.application_tracking(self.tag),
            *streams,
        ]
        args = [
            "1" if with_log else "0",
            tracking.application_name if tracking else "",
            tracking.notification_id if tracking else 0,
            pack(packed),
        ]
        with _translated_errors():
            reply = self._insert(keys=keys, args=args)
        return [int(n) for n in reply]


class RedisAggregateRecorder(RedisRecorder, AggregateRecorder):
    """Aggregate events (or snapshots) in one stream per aggregate."""

    def __init__(
        self, client: SyncRedisClient, names: StreamNames, tag: str, purpose: str = "events"
    ) -> None:
        super().__init__(client, names, tag)
        self.kind = STREAM_KINDS.get(purpose, purpose)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._run_insert(stored_events, kind=self.kind, with_log=False)
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """Events of one aggregate with gt < version <= lte.

        Versions grow along the stream, so a read that starts above `gt` (loading after
        a snapshot) walks back from the end, and one without `gt` walks forward.
        """
        stream = self.names.aggregate_stream(self.tag, self.kind, str(originator_id))
        with _translated_errors():
            if desc or gt is not None:
                found = self._walk_back(stream, gt, lte, limit if desc else None)
                if not desc:
                    found.reverse()
                    found = found[:limit] if limit is not None else found
            else:
                found = self._walk_forward(stream, lte, limit)
        return found

    def _walk_forward(self, stream: str, lte: int | None, limit: int | None) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        for fields in self._entries(stream, reverse=False):
            if lte is not None and int(fields[VERSION]) > lte:
                break
            found.append(stored_event(fields))
            if limit is not None and len(found) >= limit:
                break
        return found

    def _walk_back(
        self, stream: str, gt: int | None, lte: int | None, limit: int | None
    ) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        for fields in self._entries(stream, reverse=True):
            version = int(fields[VERSION])
            if gt is not None and version <= gt:
                break
            if lte is not None and version > lte:
                continue
            found.append(stored_event(fields))
            if limit is not None and len(found) >= limit:
                break
        return found

    def _entries(self, stream: str, *, reverse: bool) -> Iterator[dict[bytes, bytes]]:
        """The entries of a stream, page by page, oldest or newest first."""
        bound = "+" if reverse else "-"
        while True:
            if reverse:
                page = entries(self.client.xrevrange(stream, bound, "-", count=PAGE))
            else:
                page = entries(self.client.xrange(stream, bound, "+", count=PAGE))
            for _, fields in page:
                yield fields
            if len(page) < PAGE:
                return
            bound = f"({page[-1][0].decode()}"


class RedisApplicationRecorder(RedisAggregateRecorder, ApplicationRecorder):
    """Aggregate events, and the application's notification log beside them."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return self._run_insert(stored_events, kind=self.kind, with_log=True)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        first = 1 if start is None else (start if inclusive_of_start else start + 1)
        wanted = set(topics)
        found: list[Notification] = []
        with _translated_errors():
            position = self._position_of(max(first, 1))
            if position is None:
                return found
            low = str(position)
            log = self.names.notification_log(self.tag)
            while len(found) < limit:
                page = entries(self.client.xrange(log, low, "+", count=PAGE))
                for entry_id, fields in page:
                    note = notification(entry_id, fields)
                    if stop is not None and note.id > stop:
                        return found
                    if not wanted or note.topic in wanted:
                        found.append(note)
                        if len(found) >= limit:
                            return found
                if len(page) < PAGE:
                    return found
                low = f"({page[-1][0].decode()}"
        return found

    def _position_of(self, notification_id: int) -> Position | None:
        """The log position of a notification id, or None if it was not recorded (yet)."""
        ms = self.client.hget(self.names.notification_index(self.tag), str(notification_id))
        return Position(int(ms), notification_id) if ms is not None else None

    def max_notification_id(self) -> int | None:
        with _translated_errors():
            log = self.names.notification_log(self.tag)
            last = entries(self.client.xrevrange(log, "+", "-", count=1))
        return Position.parse(last[0][0]).seq if last else None

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return RedisSubscription(self, gt=gt, topics=topics)

    def log_position(self, notification_id: int | None) -> Position | None:
        """Where a notification sits in the log (None: before the first)."""
        if not notification_id:
            return None
        with _translated_errors():
            return self._position_of(notification_id)


class RedisTrackingRecorder(RedisRecorder, TrackingRecorder):
    """The last notification id processed, per upstream application."""

    def insert_tracking(self, tracking: Tracking) -> None:
        self._run_insert([], kind="agg", with_log=False, tracking=tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        with _translated_errors():
            value = self.client.hget(self.names.application_tracking(self.tag), application_name)
        return int(value) if value is not None else None


class RedisProcessRecorder(RedisTrackingRecorder, RedisApplicationRecorder, ProcessRecorder):
    """Events and the tracking record of what caused them, in one atomic insert."""

    def __init__(self, client: SyncRedisClient, names: StreamNames, tag: str) -> None:
        RedisApplicationRecorder.__init__(self, client, names, tag)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        return self._run_insert(stored_events, kind=self.kind, with_log=True, tracking=tracking)


__all__ = [
    "RedisAggregateRecorder",
    "RedisApplicationRecorder",
    "RedisProcessRecorder",
    "RedisTrackingRecorder",
]
