"""Read your writes: where a command's events landed, as `<stream>@<position>`.

A command is recorded in its application's notification log (``ix:{app.users}:log``)
at ``<ms>-<notification id>``; read models apply that log in order, so a read model that
has applied the position shows the command's effect.

Reads take such positions back as ``after=`` (`read_after`), or a live topic's cursor
as ``after_cursor=`` (a page that subscribed first and reads its snapshot second passes
the cursor its subscription started at, unread: cursors stay opaque to clients): the
read waits until its read model has applied them, for up to ``wait_s`` seconds (at most the server's
``max_wait_s``). A read that waited in vain still answers, with what the read model
holds and ``X-Read-Model-Behind: true``: a stale answer the client can recognise serves
it better than an error it would retry blindly.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from pydantic import StringConstraints

from api.context import ApiContext, api_context
from api.live.cursor import MAX_CURSOR_CHARS, cursor_positions
from api.live.errors import InvalidCursorError
from api.reading import invalid
from events.names import StreamNames
from events.position import Position
from events.redis_client import entries
from events.store import EventStore
from projections.runner import source_streams

BEHIND_HEADER = "X-Read-Model-Behind"
AFTER_PATTERN = r"^[^@]+@[0-9]+(-[0-9]+)?$"
MAX_AFTER = 16
"""Positions one read may wait for: one per partition a client wrote to, say."""


async def written_position(
    store: EventStore, application: str, notification_id: int | None
) -> tuple[str, Position]:
    """The log stream of `application` and the position of notification `notification_id`.

    Without a notification id (the command recorded nothing, or its service does not
    say which notification it wrote), the log's last position: everything the command
    wrote is at or before it, so waiting for it is waiting for the command.
    """
    names = store.names
    tag = StreamNames.application_tag(application)
    stream = names.notification_log(tag)
    if notification_id is not None:
        ms = await store.redis.hget(names.notification_index(tag), str(notification_id))
        if ms is not None:
            return stream, Position(int(ms), notification_id)
    last = entries(await store.redis.xrevrange(stream, "+", "-", count=1))
    return stream, Position.parse(last[0][0]) if last else Position(0, 0)


def format_position(stream: str, position: Position) -> str:
    """`<stream>@<position>`: what a client passes back as ``after=``."""
    return f"{stream}@{position}"


def parse_position(token: str, names: StreamNames) -> tuple[str, Position]:
    """The stream and position of ``<stream>@<position>``; ValueError saying what is wrong."""
    stream, at, position = token.rpartition("@")
    if not at:
        raise ValueError("expected <stream>@<position>, e.g. ix:{p3}:ticks@1732182312345-7")
    names.parse(stream)
    return stream, Position.parse(position)


@dataclass(frozen=True)
class AfterWrites:
    """The positions a read must see, checked; `wait` waits for them.

    Parsing is a dependency (a malformed ``after`` is a 422 like any other parameter);
    waiting is the endpoint's first statement, so it starts only once the key and every
    other parameter have passed: a request that will be refused never makes us wait.
    """

    context: ApiContext
    projection: str
    marks: tuple[tuple[str, Position], ...]
    timeout_s: float
    response: Response

    async def wait(self) -> bool | None:
        """Whether the read model applied every position in time (None: nothing to wait
        for); also said in the ``X-Read-Model-Behind`` header."""
        if not self.marks:
            return None
        read_models, names = self.context.read_models, self.context.store.names
        deadline = time.monotonic() + self.timeout_s
        caught_up = True
        for stream, position in self.marks:
            remaining = max(0.0, deadline - time.monotonic())
            caught_up = await read_models.wait_for(
                self.context.redis,
                names,
                stream,
                position,
                timeout_s=remaining,
                only=self.projection,
            )
            if not caught_up:
                break
        self.response.headers[BEHIND_HEADER] = "false" if caught_up else "true"
        return caught_up


def read_after(projection: str) -> Callable[..., Awaitable[AfterWrites]]:
    """The dependency reading ``after`` and ``wait_s`` for a read of `projection`."""

    async def after_writes(
        context: Annotated[ApiContext, Depends(api_context)],
        response: Response,
        after: Annotated[
            list[Annotated[str, StringConstraints(pattern=AFTER_PATTERN)]] | None,
            Query(
                max_length=MAX_AFTER,
                description="`<stream>@<position>` of a write (as the ingest and command"
                " endpoints return): wait until this read model has applied it. Repeatable.",
            ),
        ] = None,
        after_cursor: Annotated[
            str | None,
            Query(
                max_length=MAX_CURSOR_CHARS,
                description="A live topic's cursor (as `subscribed` and every event message"
                " carry it): wait until this read model has applied every position it holds,"
                " so a snapshot read after subscribing misses nothing the feed does not send.",
            ),
        ] = None,
        wait_s: Annotated[
            float | None,
            Query(
                ge=0,
                description="Longest wait for `after` and `after_cursor`, in seconds (default"
                " and limit: the server's max_wait_s). On timeout the answer comes anyway,"
                " marked with `X-Read-Model-Behind: true`.",
            ),
        ] = None,
    ) -> AfterWrites:
        limit = context.config.max_wait_s
        if wait_s is not None and wait_s > limit:
            raise invalid("wait_s", f"at most {limit:g} seconds")
        marks = _marks(context, projection, after or [])
        if after_cursor:
            marks += _cursor_marks(context, projection, after_cursor)
        return AfterWrites(
            context, projection, marks, limit if wait_s is None else wait_s, response
        )

    return after_writes


def _readable(context: ApiContext, projection: str) -> frozenset[str]:
    return frozenset(source_streams(context.read_models.projections[projection], context.store))


def _marks(
    context: ApiContext, projection: str, tokens: list[str]
) -> tuple[tuple[str, Position], ...]:
    names = context.store.names
    readable = _readable(context, projection)
    marks = []
    for token in tokens:
        try:
            stream, position = parse_position(token, names)
        except ValueError as error:
            raise invalid("after", str(error)) from None
        if stream not in readable:
            raise invalid("after", f"{stream} is not a stream this read model ({projection}) reads")
        marks.append((stream, position))
    return tuple(marks)


def _cursor_marks(
    context: ApiContext, projection: str, cursor: str
) -> tuple[tuple[str, Position], ...]:
    """The positions of a live cursor, each of a stream this read model reads; a stream
    still empty when the cursor was made (0-0) needs no wait."""
    try:
        positions = cursor_positions(cursor)
    except InvalidCursorError as error:
        raise invalid("after_cursor", str(error)) from None
    foreign = sorted(set(positions) - _readable(context, projection))
    if foreign:
        raise invalid(
            "after_cursor",
            f"the cursor names {foreign[0]}, a stream this read model ({projection}) does not"
            " read: pass the cursor of the topic this read shows",
        )
    return tuple(
        (stream, position) for stream, position in positions.items() if position != Position(0, 0)
    )


READ_AFTER_HEADERS: dict[str, Any] = {
    BEHIND_HEADER: {
        "description": "With `after`: `true` when the read model had not applied every"
        " given position within `wait_s` (the answer may miss those writes), else `false`.",
        "schema": {"type": "string", "enum": ["true", "false"]},
    }
}
"""The header a read with `after` answers with, for the OpenAPI `responses`."""
