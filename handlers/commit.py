"""Committing a processed batch: one script call per batch (see scripts/commit.lua)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from redis.exceptions import ResponseError

from events.errors import LeaseLostError
from events.lua import pack, register
from events.names import StreamNames
from events.redis_client import RedisClient
from handlers.outputs import EncodedFields

Status = Literal["ok", "dead", "gone"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one entry: handled (with outputs), dead-lettered, or already gone."""

    stream: str
    entry_id: bytes
    status: Status
    outputs: tuple[tuple[str, EncodedFields], ...] = ()
    """(output stream, the event's entry fields) pairs, all in the input's partition,
    checked by `handlers.outputs` (dead letters are the runtime's own)."""


@dataclass(frozen=True, slots=True)
class CommitResult:
    processed: int
    duplicates: int
    dead_lettered: int


@dataclass
class _Arguments:
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    entries: list[Any] = field(default_factory=list)

    def index(self, names: list[str], stream: str) -> int:
        try:
            return names.index(stream) + 1
        except ValueError:
            names.append(stream)
            return len(names)


class Committer:
    """Commits batches of one handler in one partition."""

    def __init__(self, redis: RedisClient, names: StreamNames, group: str, tag: str) -> None:
        self.group = group
        self._lease = names.lease(tag, group)
        self._tracking = names.tracking(tag, group)
        self._stats = names.stats(tag, group)
        self._script = register(redis, "handlers", "commit")

    async def commit(self, consumer: str, outcomes: list[Outcome], failed: int) -> CommitResult:
        """Write the batch's outputs, tracking and acknowledgements atomically.

        Safe to call again after a lost reply: entries already tracked count as duplicates.
        """
        args = _Arguments()
        for outcome in outcomes:
            args.entries += (
                args.index(args.inputs, outcome.stream),
                outcome.entry_id,
                outcome.status,
                len(outcome.outputs),
            )
            for stream, fields in outcome.outputs:
                args.entries.append(args.index(args.outputs, stream))
                args.entries += fields
        keys = [self._lease, self._tracking, self._stats, *args.inputs]
        for stream in args.outputs:
            keys += (stream, StreamNames.dedup_index(stream))
        argv = [self.group, consumer, len(args.inputs), failed, pack(args.entries)]
        try:
            reply = await self._script(keys=keys, args=argv)
        except ResponseError as error:
            if str(error).startswith("IXLEASELOST"):
                raise LeaseLostError(f"{consumer} no longer owns {self._lease}") from None
            raise
        return CommitResult(int(reply[0]), int(reply[1]), int(reply[2]))
