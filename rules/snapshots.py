"""Snapshots of the rules a `rules` process knows, so a restart does not re-read the log.

A snapshot holds every rule, each row tagged with the partition of its symbol (price
rules are placed like the ticks they watch; post rules, which may match a post in any
partition, carry no tag), as the rules' log says them, and the log position it is
complete up to. It is taken from the log-derived states only, never from the
engine's: the engine records a firing before the runtime commits the alert, and a
snapshot must not remember a firing that a crash then undid.

Rows are validated lazily, a partition at a time (`state_of`): validating a spec is
most of what loading 100,000 rules costs (2.5 s), and a process needs a partition's
rules only when it starts handling that partition. Specs are kept as JSON text, which
pydantic-core validates faster than Python dicts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import structlog

from aggregates.rule_spec import RuleSpec
from events.names import StreamNames
from events.position import Position
from events.redis_client import RedisClient
from rules.firing import RuleState

log = structlog.get_logger(__name__)

SNAPSHOT_VERSION = 3
ROW_FIELDS = 9


Row = list[Any]
"""A rule as a snapshot keeps it: id, owner, spec (JSON text), status, last firing,
count, the partition tag of its symbol ("" for a rule on no symbol, such as a post
rule), expiry, and when it was armed (post rules fire only on posts that arrived since)."""


@dataclass(frozen=True)
class RulesSnapshot:
    rows: list[Row]
    """Not validated yet: a reader validates the rows it needs, when it needs them."""
    log_position: Position
    """Every rule event up to here is in `rows`."""
    taken_ms: int


def row_of(state: RuleState, tag: str) -> Row:
    expires_at = state.spec.expires_at
    return [
        str(state.rule_id),
        str(state.owner_id),
        state.spec.model_dump_json(),
        state.status,
        state.last_triggered_at.isoformat() if state.last_triggered_at else None,
        state.trigger_count,
        tag,
        expires_at.isoformat() if expires_at else None,
        state.armed_at.isoformat() if state.armed_at else None,
    ]


def state_of(row: Row) -> RuleState:
    """The rule a row holds, validated (about 25 µs: most of what a restart costs)."""
    rule_id, owner_id, spec, status, last, count, _tag, _expiry, armed = row
    return RuleState(
        rule_id=UUID(rule_id),
        owner_id=UUID(owner_id),
        spec=RuleSpec.model_validate_json(spec),
        status=status,
        last_triggered_at=datetime.fromisoformat(last) if last else None,
        trigger_count=int(count),
        armed_at=datetime.fromisoformat(armed) if armed else None,
    )


def snapshot_key(names: StreamNames, tag: str) -> str:
    return f"{names.prefix}:{{{tag}}}:rules:snapshot"


async def save_snapshot(
    redis: RedisClient, names: StreamNames, tag: str, rows: list[Row], log_position: Position
) -> None:
    """Replace the snapshot (one SET: readers see the old or the new)."""
    document = {
        "version": SNAPSHOT_VERSION,
        "log_position": str(log_position),
        "taken_ms": int(time.time() * 1000),
        "rules": rows,
    }
    await redis.set(snapshot_key(names, tag), orjson.dumps(document))


async def load_snapshot(redis: RedisClient, names: StreamNames, tag: str) -> RulesSnapshot | None:
    """The snapshot; None when there is none or it cannot be read (the caller then reads
    the whole log, which is slower but as correct)."""
    raw = await redis.get(snapshot_key(names, tag))
    if raw is None:
        return None
    try:
        document = orjson.loads(raw)
        if document.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"version {document.get('version')!r}")
        rows = document["rules"]
        if not all(isinstance(row, list) and len(row) == ROW_FIELDS for row in rows):
            raise ValueError("a rule row of the wrong shape")
        return RulesSnapshot(
            rows, Position.parse(document["log_position"]), int(document["taken_ms"])
        )
    except (ValueError, KeyError, TypeError) as error:
        log.warning("rules snapshot unreadable: reading the whole log", tag=tag, error=str(error))
        return None
