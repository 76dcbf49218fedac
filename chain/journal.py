"""A chain watcher's state in Redis, and the one atomic step that changes it.

Everything a watcher writes lives in the ``{chain}`` hash slot (`events.names`):

- ``ix:{chain}:journal``: the events of every chain, as the watchers appended them;
- ``ix:{chain}:cursor.<id>``: ``number:hash:confirmed``, the last block read, its hash,
  and the highest block whose observations are confirmed;
- ``ix:{chain}:window.<id>``: block number -> hash, parent hash and the observations
  read in it, for the blocks a reorg could still remove;
- ``ix:{chain}:reorged.<id>``: block hash -> times a reorg removed it (an
  observation's incarnation);
- ``ix:{chain}:lease.<id>`` and ``status.<id>``: which process follows the chain, and
  what it saw last.

A step (`scripts/advance.lua`) appends its events (deduplicated by id), updates the
window and the counts and moves the cursor, in one script: a watcher killed at any point
has either written a step whole or not at all, so it resumes from its cursor with no gap
and no duplicate. The script also refuses to write unless the cursor is where the
watcher read it and the watcher still holds its lease, so a stalled watcher whose lease
was taken over cannot write behind its successor's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from redis.exceptions import ResponseError

from chain.errors import CursorMovedError, WatcherLeaseLostError
from chain.observations import Observation
from events.catalog.chain import ChainRecord
from events.codec import encode
from events.envelope import Event
from events.lua import pack, register
from events.redis_client import hash_fields, text
from events.store import EventStore

ANY_CURSOR = "*"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a watcher is: the last block it read, and how far it has confirmed."""

    number: int
    hash: str
    confirmed: int

    def encode(self) -> str:
        return f"{self.number}:{self.hash}:{self.confirmed}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        number, block_hash, confirmed = text.split(":")
        return cls(int(number), block_hash, int(confirmed))


@dataclass
class WindowBlock:
    """A block a reorg could still remove, and what was observed in it."""

    number: int
    hash: str
    parent_hash: str
    observations: list[Observation] = field(default_factory=list)

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "hash": self.hash,
                "parent": self.parent_hash,
                "observations": [
                    [str(o.id), orjson.Fragment(o.record.__pydantic_serializer__.to_json(o.record))]
                    for o in self.observations
                ],
            }
        )

    @classmethod
    def decode(cls, number: int, data: bytes) -> WindowBlock:
        fields = orjson.loads(data)
        return cls(
            number,
            fields["hash"],
            fields["parent"],
            [
                Observation(UUID(id_text), ChainRecord.model_validate(record))
                for id_text, record in fields["observations"]
            ],
        )


@dataclass
class JournalState:
    cursor: Cursor | None
    window: dict[int, WindowBlock]
    reorged: dict[str, int]


@dataclass
class Step:
    """What one atomic step writes."""

    events: list[Event] = field(default_factory=list)
    cursor: Cursor | None = None
    """The cursor after the step; None leaves it (a range job)."""
    window_set: list[WindowBlock] = field(default_factory=list)
    window_drop: list[int] = field(default_factory=list)
    reorged: list[str] = field(default_factory=list)


class ChainJournal:
    """One chain's state and its atomic steps."""

    def __init__(self, store: EventStore, chain_id: int) -> None:
        self.store = store
        self.chain_id = chain_id
        names = store.names
        self.journal = names.chain_journal()
        self.cursor_key = names.chain_state("cursor", chain_id)
        self.window_key = names.chain_state("window", chain_id)
        self.reorged_key = names.chain_state("reorged", chain_id)
        self.lease_key = names.chain_state("lease", chain_id)
        self.status_key = names.chain_state("status", chain_id)
        self.tokens_key = names.chain_state("tokens", chain_id)
        self._advance = register(store.redis, "chain", "advance")
        self._lease = register(store.redis, "chain", "lease")

    async def load(self) -> JournalState:
        redis = self.store.redis
        cursor_text = await redis.get(self.cursor_key)
        window = hash_fields(await redis.hgetall(self.window_key))
        reorged = hash_fields(await redis.hgetall(self.reorged_key))
        return JournalState(
            cursor=Cursor.parse(text(cursor_text)) if cursor_text else None,
            window={
                int(number): WindowBlock.decode(int(number), data)
                for number, data in window.items()
            },
            reorged={block_hash.decode(): int(count) for block_hash, count in reorged.items()},
        )

    async def commit(self, step: Step, *, expected: Cursor | str | None, owner: str) -> int:
        """Write `step` atomically; returns how many of its events were new.

        `expected` is the cursor the step was computed from (None: the chain has none
        yet; `ANY_CURSOR`: do not check, for a range job, with `owner` ''). Raises
        `CursorMovedError` or `WatcherLeaseLostError` having written nothing.
        """
        expected_text = (
            expected if isinstance(expected, str) else "" if expected is None else expected.encode()
        )
        events: list[Any] = []
        for event in step.events:
            events.append(1)
            events.extend(encode(event))
        window_set: list[Any] = []
        for block in step.window_set:
            window_set += (str(block.number), block.encode())
        try:
            new = await self._advance(
                keys=[
                    self.journal,
                    self.store.names.dedup_index(self.journal),
                    self.cursor_key,
                    self.window_key,
                    self.reorged_key,
                    self.lease_key,
                ],
                args=[
                    owner,
                    expected_text,
                    "" if step.cursor is None else step.cursor.encode(),
                    pack(events),
                    pack(window_set),
                    pack([str(number) for number in step.window_drop]),
                    pack(step.reorged),
                ],
            )
        except ResponseError as error:
            message = str(error)
            if message.startswith("IXLEASELOST"):
                raise WatcherLeaseLostError(
                    f"another watcher follows chain {self.chain_id} now"
                ) from None
            if message.startswith("IXCURSOR"):
                raise CursorMovedError(message.removeprefix("IXCURSOR ")) from None
            raise
        return int(new)

    async def hold_lease(self, owner: str, ttl_ms: int, status: dict[str, str | int]) -> bool:
        """Take or renew the lease (and record `status`); False while another holds it."""
        fields: list[Any] = []
        for name, value in status.items():
            fields += (name, str(value))
        held = await self._lease(
            keys=[self.lease_key, self.status_key], args=[owner, ttl_ms, pack(fields)]
        )
        return bool(held)

    async def release_lease(self, owner: str) -> None:
        await self._lease(keys=[self.lease_key, self.status_key], args=[owner, 0, pack([])])

    async def lease_holder(self) -> str | None:
        holder = await self.store.redis.get(self.lease_key)
        return text(holder) if holder else None

    async def status(self) -> dict[str, str]:
        fields = hash_fields(await self.store.redis.hgetall(self.status_key))
        return {name.decode(): value.decode() for name, value in fields.items()}
