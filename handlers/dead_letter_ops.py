"""Operating on dead letters: listing them, retrying them, discarding them.

A retry redelivers the original entry to the handler that gave up on it, and to no
other handler of its category: the entry is appended, with its original fields, to the
handler's own retry stream in the same partition (``<prefix>:{p3}:retry.<handler>``),
which that handler's workers read beside their categories. Moving it there and deleting
its dead letter is one script, so a letter is retried once however many operators click.
Its position in the retry stream is new, so the handler's tracking (one position per
stream) takes it as new work, and commits it exactly once like any other entry.

A discard deletes the dead letter and counts it (``discarded`` in the handler's stats),
and logs a line naming what was thrown away. Both refuse ids that are not there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from redis.exceptions import ResponseError

from events.codec import decode
from events.errors import ImpressoxError
from events.lua import pack, register
from events.names import DEAD_LETTER_PREFIX, StreamNames, check_group
from events.position import Position
from events.redis_client import entries, text
from events.store import EventStore
from handlers.dead_letters import EntryDeadLettered

log = structlog.get_logger(__name__)

RETRY_PREFIX = "retry."
PAGE = 500
"""Dead letters read (and moved) per script call when retrying all of them."""

_ID = re.compile(r"^(?P<tag>[a-z0-9][a-z0-9_.:-]{0,127})/(?P<position>\d{1,20}-\d{1,20})$")
_MAX_ID_HALF = 2**64 - 1


class UnknownDeadLetterError(ImpressoxError):
    """A dead letter asked for is not there (never was, or retried or discarded already)."""


HANDLER_PATTERN = r"^[a-z][a-z0-9_-]{0,57}$"
"""Names of handlers that can have dead letters: the retry category must fit in 64."""


def retry_stream(names: StreamNames, tag: str, handler: str) -> str:
    """The stream of entries retried for `handler` in partition `tag` (only it reads it)."""
    return names.stream(tag, RETRY_PREFIX + check_group(handler))


def check_handler(handler: str) -> str:
    """Refuse a name that cannot be a handler with dead letters (ValueError)."""
    check_group(handler)
    if not re.match(HANDLER_PATTERN, handler):
        raise ValueError(f"invalid handler name {handler!r}: at most 58 characters")
    return handler


@dataclass(frozen=True, order=True)
class DeadLetterId:
    """Where a dead letter is: its partition (hash tag) and its position in the dead
    stream, written ``p3/1732182312345-0``. Positions repeat across partitions."""

    tag: str
    position: Position

    @classmethod
    def parse(cls, raw: str) -> DeadLetterId:
        match = _ID.match(raw)
        if match is not None:
            position = Position.parse(match["position"])
            if max(position.ms, position.seq) <= _MAX_ID_HALF:
                return cls(match["tag"], position)
        raise ValueError(
            f"invalid dead letter id {raw!r}: expected <partition>/<position>,"
            " e.g. p3/1732182312345-0 (as `dead-letters list` prints it)"
        )

    def __str__(self) -> str:
        return f"{self.tag}/{self.position}"


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter, as an operator reads it."""

    id: DeadLetterId
    handler: str
    dead_at: datetime
    stream: str
    """Where the original entry was when the handler gave up (a category or retry stream)."""
    position: str
    original_type: str | None
    event_id: str | None
    key: str | None
    correlation_id: str | None
    error_type: str
    error: str
    deliveries: int
    entry: dict[str, str]

    def describe(self) -> dict[str, Any]:
        """As plain data (the CLI's JSON lines, the API's items)."""
        return {
            "id": str(self.id),
            "handler": self.handler,
            "partition": self.id.tag,
            "dead_at": self.dead_at.isoformat(),
            "stream": self.stream,
            "position": self.position,
            "original_type": self.original_type,
            "event_id": self.event_id,
            "key": self.key,
            "correlation_id": self.correlation_id,
            "error_type": self.error_type,
            "error": self.error,
            "deliveries": self.deliveries,
        }


@dataclass(frozen=True)
class DeadLetterPage:
    items: list[DeadLetter]
    next_cursor: str | None
    """Pass back as `cursor` for the next page; None on the last one."""


class DeadLetters:
    """Dead letters of every handler of one deployment (one prefix)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.redis = store.redis
        self.names = store.names
        self._retry = register(store.redis, "handlers", "dead_letter_retry")
        self._discard = register(store.redis, "handlers", "dead_letter_discard")

    # -- reading ------------------------------------------------------------------------

    async def streams(self, handler: str | None = None) -> list[tuple[str, str, str]]:
        """(handler, tag, dead stream) of every dead-letter stream, sorted (SCAN)."""
        category = DEAD_LETTER_PREFIX + (check_handler(handler) if handler else "*")
        pattern = f"{self.names.prefix}:{{*}}:{category}"
        found: set[tuple[str, str, str]] = set()
        async for key in self.redis.scan_iter(match=pattern, count=1000, _type="STREAM"):
            stream = text(key)
            try:
                tag, parsed = self.names.parse(stream)
            except ValueError:
                continue
            if parsed.startswith(DEAD_LETTER_PREFIX):
                found.add((parsed.removeprefix(DEAD_LETTER_PREFIX), tag, stream))
        return sorted(found)

    async def page(
        self, handler: str | None = None, *, cursor: str | None = None, limit: int = 50
    ) -> DeadLetterPage:
        """A page of dead letters (of `handler`, or of all), by handler, partition, age.

        Raises ValueError for a cursor that is not one this method returned.
        """
        after = _parse_cursor(cursor) if cursor else None
        items: list[DeadLetter] = []
        for name, tag, stream in await self.streams(handler):
            if after is not None and (name, tag) < after[:2]:
                continue
            start = f"({after[2]}" if after is not None and (name, tag) == after[:2] else "-"
            wanted = limit + 1 - len(items)
            read = entries(await self.redis.xrange(stream, start, "+", count=wanted))
            items += [self._letter(name, tag, entry_id, fields) for entry_id, fields in read]
            if len(items) > limit:
                last = items[limit - 1]
                return DeadLetterPage(items[:limit], f"{last.handler}/{last.id}")
        return DeadLetterPage(items, None)

    def _letter(
        self, handler: str, tag: str, entry_id: bytes, fields: dict[bytes, bytes]
    ) -> DeadLetter:
        position = Position.parse(entry_id)
        payload = decode(fields, self.store.registry).payload
        assert isinstance(payload, EntryDeadLettered), "dead-letter streams hold dead letters"
        entry = payload.entry
        return DeadLetter(
            id=DeadLetterId(tag, position),
            handler=handler,
            dead_at=position.time,
            stream=payload.stream,
            position=payload.position,
            original_type=entry.get("type"),
            event_id=entry.get("event_id"),
            key=entry.get("key"),
            correlation_id=entry.get("correlation_id"),
            error_type=payload.error_type,
            error=payload.error,
            deliveries=payload.deliveries,
            entry=entry,
        )

    async def _read(self, handler: str, ids: Sequence[DeadLetterId]) -> list[DeadLetter]:
        """The letters `ids` name, or UnknownDeadLetterError naming the first missing one."""
        found = []
        for letter_id in ids:
            stream = self.names.dead_letters(letter_id.tag, handler)
            position = str(letter_id.position)
            page = entries(await self.redis.xrange(stream, position, position, count=1))
            if not page:
                raise _unknown(handler, letter_id)
            found.append(self._letter(handler, letter_id.tag, *page[0]))
        return found

    # -- acting -------------------------------------------------------------------------

    async def retry(self, handler: str, ids: Sequence[DeadLetterId] | None = None) -> int:
        """Redeliver dead letters (`ids`, or all of them) to `handler` alone: how many.

        Every id is looked up first: an unknown one moves nothing and raises
        UnknownDeadLetterError. Then each partition's letters move in one atomic step.
        """
        check_handler(handler)
        if ids is None:
            return await self._retry_all(handler)
        found = {tag: await self._read(handler, wanted) for tag, wanted in _by_tag(ids).items()}
        moved = 0
        for tag, letters in found.items():
            moved += await self._move(handler, tag, letters)
        return moved

    async def _retry_all(self, handler: str) -> int:
        """Retry the letters there now, not those a still failing handler adds meanwhile."""
        moved = 0
        for _, tag, stream in await self.streams(handler):
            newest = entries(await self.redis.xrevrange(stream, "+", "-", count=1))
            if not newest:
                continue
            last = newest[0][0]
            while page := entries(await self.redis.xrange(stream, "-", last, count=PAGE)):
                letters = [self._letter(handler, tag, entry_id, f) for entry_id, f in page]
                try:
                    moved += await self._move(handler, tag, letters)
                except UnknownDeadLetterError:
                    continue  # someone else retried or discarded some meanwhile: read again
        return moved

    async def _move(self, handler: str, tag: str, letters: list[DeadLetter]) -> int:
        values: list[Any] = []
        for letter in letters:
            values += (str(letter.id.position), len(letter.entry))
            for name, value in letter.entry.items():
                values += (name, value)
        keys = [
            self.names.dead_letters(tag, handler),
            retry_stream(self.names, tag, handler),
            self.names.stats(tag, handler),
        ]
        try:
            moved = await self._retry(keys=keys, args=[pack(values)])
        except ResponseError as error:
            raise _unknown_or(error, handler, tag) from None
        for letter, position in zip(letters, moved, strict=True):
            log.info(
                "dead letter retried",
                handler=handler,
                dead_letter=str(letter.id),
                retry_stream=keys[1],
                retry_position=text(position),
                original_type=letter.original_type,
                correlation_id=letter.correlation_id,
            )
        return len(moved)

    async def discard(self, handler: str, ids: Sequence[DeadLetterId]) -> int:
        """Delete dead letters for good, counting and logging each: how many (all ids
        are looked up first, as for `retry`)."""
        check_handler(handler)
        found = {tag: await self._read(handler, wanted) for tag, wanted in _by_tag(ids).items()}
        discarded = 0
        for tag, letters in found.items():
            keys = [self.names.dead_letters(tag, handler), self.names.stats(tag, handler)]
            positions = [str(letter.id.position) for letter in letters]
            try:
                discarded += int(await self._discard(keys=keys, args=positions))
            except ResponseError as error:
                raise _unknown_or(error, handler, tag) from None
            for letter in letters:
                log.warning(
                    "dead letter discarded",
                    handler=handler,
                    dead_letter=str(letter.id),
                    original_type=letter.original_type,
                    event_id=letter.event_id,
                    correlation_id=letter.correlation_id,
                    error_type=letter.error_type,
                )
        return discarded


def _by_tag(ids: Iterable[DeadLetterId]) -> dict[str, list[DeadLetterId]]:
    """Ids grouped by partition, each once, in order: one atomic step per partition."""
    grouped: dict[str, list[DeadLetterId]] = {}
    for letter_id in sorted(set(ids)):
        grouped.setdefault(letter_id.tag, []).append(letter_id)
    return grouped


def _parse_cursor(cursor: str) -> tuple[str, str, str]:
    handler, _, rest = cursor.partition("/")
    try:
        letter_id = DeadLetterId.parse(rest)
        check_handler(handler)
    except ValueError:
        raise ValueError("invalid cursor: pass back a next_cursor unchanged") from None
    return handler, letter_id.tag, str(letter_id.position)


def _unknown(handler: str, letter_id: DeadLetterId | str) -> UnknownDeadLetterError:
    return UnknownDeadLetterError(
        f"handler {handler!r} has no dead letter {letter_id}"
        " (retried or discarded already, or never there)"
    )


def _unknown_or(error: ResponseError, handler: str, tag: str) -> Exception:
    message = str(error)
    if message.startswith("IXUNKNOWN "):
        return _unknown(handler, f"{tag}/{message.split(' ', 1)[1]}")
    return error
