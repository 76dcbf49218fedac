"""Snapshots of each partition's rules, so a restart does not re-read every rule event.

A snapshot holds the rules of one partition (rules are placed by their symbol's
partition, like the ticks they watch) as the rules' log says them, and the log position
it is complete up to. It is taken from the log-derived states only, never from the
engine's: the engine records a firing before the runtime commits the alert, and a
snapshot must not remember a firing that a crash then undid.

Specs are kept as JSON text: validating JSON in pydantic-core is several times faster
than validating Python dicts, and it is most of what loading 100,000 rules costs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import orjson
import structlog

from aggregates.rule_spec import RuleSpec
from events.names import StreamNames
from events.position import Position
from events.redis_client import RedisClient
from handlers.rules.firing import RuleState
from handlers.rules.rule_log import RuleStates

log = structlog.get_logger(__name__)

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class RulesSnapshot:
    rules: RuleStates
    log_position: Position
    """Every rule event up to here is in `rules`."""
    taken_ms: int


def snapshot_key(names: StreamNames, tag: str) -> str:
    return f"{names.prefix}:{{{tag}}}:rules:snapshot"


async def save_snapshot(
    redis: RedisClient, names: StreamNames, tag: str, rules: RuleStates, log_position: Position
) -> None:
    """Replace partition `tag`'s snapshot (one SET: readers see the old or the new)."""
    document = {
        "version": SNAPSHOT_VERSION,
        "log_position": str(log_position),
        "taken_ms": int(time.time() * 1000),
        "rules": [
            [
                str(state.rule_id),
                str(state.owner_id),
                state.spec.model_dump_json(),
                state.status,
                state.last_triggered_at.isoformat() if state.last_triggered_at else None,
                state.trigger_count,
            ]
            for state in rules.values()
        ],
    }
    await redis.set(snapshot_key(names, tag), orjson.dumps(document))


async def load_snapshot(redis: RedisClient, names: StreamNames, tag: str) -> RulesSnapshot | None:
    """Partition `tag`'s snapshot; None when there is none or it cannot be read (the
    caller then reads the whole log, which is slower but as correct)."""
    raw = await redis.get(snapshot_key(names, tag))
    if raw is None:
        return None
    try:
        document = orjson.loads(raw)
        if document.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"version {document.get('version')!r}")
        rules: RuleStates = {}
        for rule_id, owner_id, spec, status, last, count in document["rules"]:
            state = RuleState(
                rule_id=UUID(rule_id),
                owner_id=UUID(owner_id),
                spec=RuleSpec.model_validate_json(spec),
                status=status,
                last_triggered_at=datetime.fromisoformat(last) if last else None,
                trigger_count=int(count),
            )
            rules[state.rule_id] = state
        return RulesSnapshot(
            rules, Position.parse(document["log_position"]), int(document["taken_ms"])
        )
    except (ValueError, KeyError, TypeError) as error:
        log.warning("rules snapshot unreadable: reading the whole log", tag=tag, error=str(error))
        return None
