"""What the system is doing: streams, their groups, lag, pending and handler counters.

Everything here is read from Redis, so any process (the CLI, the API, a worker's
metrics endpoint) reports the same cluster-wide figures, however many workers run.

**Stalled.** A group has work on a stream when entries wait for it there (lag or
pending). Each commit that advances a partition records when (``advanced_at`` in the
partition's stats, Redis time). `GroupStatus.waiting_s` is how long the oldest waiting
entry has waited without the partition advancing: since it was appended, or since the
last advance if that came later. A partition whose `waiting_s` passes a threshold
(``IMPRESSOX_STALL_AFTER_S``) is stalled: no worker owns it, or one entry holds it
(retried, or a slow handler). /readyz, the metrics and ``impressox events info`` show it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import ResponseError

from events.names import StreamNames
from events.position import Position
from events.redis_client import RedisClient, entries, text
from handlers.dead_letter_ops import RETRY_PREFIX

LAG_COUNT_LIMIT = 100_000
"""When Redis cannot tell a group's lag (after deletions), we count up to this many."""


@dataclass(frozen=True)
class GroupStatus:
    """One handler's consumer group on one stream."""

    group: str
    consumers: int
    pending: int
    lag: int | None
    lag_is_lower_bound: bool
    last_delivered: str
    owner: str | None
    processed: int = 0
    failed: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    waiting_s: float | None = None
    """How long work has waited here without the partition advancing; None: no work."""

    def stalled(self, after_s: float) -> bool:
        return self.waiting_s is not None and self.waiting_s >= after_s


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    tag: str
    category: str
    length: int
    first: Position | None
    last: Position | None
    groups: list[GroupStatus] = field(default_factory=list)


async def list_streams(redis: RedisClient, names: StreamNames) -> list[str]:
    """Every stream with our prefix, sorted (SCAN: cheap, never blocks Redis)."""
    found: set[str] = set()
    async for key in redis.scan_iter(match=names.stream_pattern(), count=1000, _type="STREAM"):
        text = key.decode() if isinstance(key, bytes) else key
        try:
            names.parse(text)
        except ValueError:
            continue
        found.add(text)
    return sorted(found)


async def stream_status(
    redis: RedisClient, names: StreamNames, stream: str, *, groups: set[str] | None = None
) -> StreamStatus:
    """Length, first and last positions, and the status of each consumer group."""
    tag, category = names.parse(stream)
    info = await redis.xinfo_stream(stream)
    statuses = []
    for group in await redis.xinfo_groups(stream):
        name = text(group["name"])
        if groups is not None and name not in groups:
            continue
        statuses.append(await _group_status(redis, names, stream, tag, group))
    return StreamStatus(
        stream=stream,
        tag=tag,
        category=category,
        length=int(info["length"]),
        first=_entry_position(info.get("first-entry")),
        last=_entry_position(info.get("last-entry")),
        groups=statuses,
    )


async def system_status(
    redis: RedisClient, names: StreamNames, *, groups: set[str] | None = None
) -> list[StreamStatus]:
    """The status of every stream we have (optionally only some handlers' groups)."""
    statuses = []
    for stream in await list_streams(redis, names):
        try:
            statuses.append(await stream_status(redis, names, stream, groups=groups))
        except ResponseError:  # deleted between SCAN and XINFO
            continue
    return statuses


async def _group_status(
    redis: RedisClient, names: StreamNames, stream: str, tag: str, group: dict[str, Any]
) -> GroupStatus:
    name = text(group["name"])
    last_delivered = text(group["last-delivered-id"])
    lag = group.get("lag")
    lower_bound = False
    if lag is None:
        lag, lower_bound = await _count_after(redis, stream, last_delivered)
    counters: dict[str, int] = {}
    owner: str | None = None
    try:
        raw = await redis.hgetall(names.stats(tag, name))
        counters = {text(k): int(v) for k, v in raw.items()}
        lease = await redis.get(names.lease(tag, name))
        owner = text(lease) if lease else None
    except ValueError:  # a group that is not one of our handlers (named freely)
        pass
    pending = int(group["pending"])
    waiting_s = None
    if pending or lag:
        oldest = await _oldest_waiting(redis, stream, name, pending, last_delivered)
        since_ms = max(counters.get("advanced_at", 0), oldest)
        waiting_s = max(0.0, time.time() - since_ms / 1000)
    if names.parse(stream)[1].startswith(RETRY_PREFIX):
        counters = {}  # a retry stream's work is counted on its handler's categories
    return GroupStatus(
        group=name,
        consumers=int(group["consumers"]),
        pending=pending,
        lag=int(lag),
        lag_is_lower_bound=lower_bound,
        last_delivered=last_delivered,
        owner=owner,
        processed=counters.get("processed", 0),
        failed=counters.get("failed", 0),
        dead_lettered=counters.get("dead_lettered", 0),
        duplicates=counters.get("duplicates", 0),
        waiting_s=waiting_s,
    )


async def _oldest_waiting(
    redis: RedisClient, stream: str, group: str, pending: int, last_delivered: str
) -> int:
    """When the oldest entry waiting for `group` was appended (ms): its first pending
    entry, else the first one it has not read."""
    if pending:
        summary = await redis.xpending(stream, group)
        first = summary.get("min")
        if first:
            return Position.parse(first).ms
    after = entries(await redis.xrange(stream, f"({last_delivered}", "+", count=1))
    return Position.parse(after[0][0]).ms if after else 0


async def _count_after(redis: RedisClient, stream: str, after: str) -> tuple[int, bool]:
    """Entries after `after`, counted page by page (Redis < 7, or lag unknown after XDEL)."""
    count, start = 0, f"({after}"
    while count < LAG_COUNT_LIMIT:
        page = entries(await redis.xrange(stream, start, "+", count=1000))
        count += len(page)
        if len(page) < 1000:
            return count, False
        start = f"({text(page[-1][0])}"
    return count, True


def _entry_position(entry: Any) -> Position | None:
    if not entry:
        return None
    return Position.parse(entry[0])


async def group_backlog(redis: RedisClient, streams: list[str], group: str) -> int:
    """Entries of `streams` that `group` has not finished: undelivered plus pending.

    Zero means the group has handled everything appended so far (a rebuild caught up).
    A stream without the group yet counts all its entries.
    """
    backlog = 0
    for stream in streams:
        try:
            groups = await redis.xinfo_groups(stream)
        except ResponseError:  # no such stream: nothing to do there
            continue
        found = next((g for g in groups if text(g["name"]) == group), None)
        if found is None:
            backlog += int(await redis.xlen(stream))
            continue
        lag = found.get("lag")
        if lag is None:
            lag, _ = await _count_after(redis, stream, text(found["last-delivered-id"]))
        backlog += int(lag) + int(found["pending"])
    return backlog
