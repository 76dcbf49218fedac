"""Builders for rule-engine tests: rules, ticks, and the engines under test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from aggregates.rule_spec import RuleSpec
from rules.engine import RuleEngine
from rules.firing import Firing, Observation, RuleState
from rules.reference import ReferenceEngine

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SYMBOL = "BTC/USDT"


class Evaluator(Protocol):
    """What the indexed engine and the reference evaluator both offer."""

    def upsert(self, rule: RuleState) -> None: ...
    def remove(self, rule_id: UUID) -> None: ...
    def evaluate(self, tick: Observation) -> list[Firing]: ...
    def record_firing(self, rule_id: UUID, at: datetime) -> None: ...
    def rules(self) -> Iterator[RuleState]: ...
    def __len__(self) -> int: ...


ENGINES: dict[str, type[RuleEngine] | type[ReferenceEngine]] = {
    "indexed": RuleEngine,
    "reference": ReferenceEngine,
}


def at(seconds: float) -> datetime:
    """T0 plus `seconds` (microsecond precision)."""
    return T0 + timedelta(microseconds=round(seconds * 1_000_000))


def spec(
    condition: dict[str, Any],
    *,
    symbol: str = SYMBOL,
    venue: str | None = None,
    frequency: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    template: str | None = None,
    name: str = "",
) -> RuleSpec:
    return RuleSpec.model_validate(
        {
            "name": name,
            "target": {"kind": "symbol", "symbol": symbol, "venue": venue},
            "condition": condition,
            "frequency": frequency or {"kind": "every_time", "cooldown_s": 0},
            "expires_at": expires_at,
            "channels": ["web", "tg-main"],
            "message_template": template,
        }
    )


def rule(
    condition: dict[str, Any],
    *,
    rule_id: UUID | None = None,
    status: str = "active",
    last: datetime | None = None,
    count: int = 0,
    **spec_fields: Any,
) -> RuleState:
    """An active rule (every time, no cooldown, unless told otherwise) on BTC/USDT."""
    return RuleState(
        rule_id=rule_id or uuid4(),
        owner_id=UUID(int=7),
        spec=spec(condition, **spec_fields),
        status=status,
        last_triggered_at=last,
        trigger_count=count,
    )


def tick(
    price: float,
    seconds: float = 0.0,
    *,
    volume: float = 1.0,
    symbol: str = SYMBOL,
    venue: str = "binance",
) -> Observation:
    return Observation(
        symbol=symbol,
        venue=venue,
        price=float(price),
        volume=float(volume),
        at=at(seconds),
        event_id=uuid4(),
    )


def above(threshold: float) -> dict[str, Any]:
    return {"type": "above", "threshold": threshold}


def crosses_up(threshold: float) -> dict[str, Any]:
    return {"type": "crosses_up", "threshold": threshold}


def feed(engine: Evaluator, *ticks: Observation) -> list[list[Firing]]:
    """Each tick's firings, in order."""
    return [engine.evaluate(each) for each in ticks]


def values(engine: Evaluator, *ticks: Observation) -> list[float | None]:
    """The value of every firing of these ticks, in order."""
    return [firing.value for fired in feed(engine, *ticks) for firing in fired]


def state(engine: Evaluator, rule_id: UUID) -> RuleState:
    return next(held for held in engine.rules() if held.rule_id == rule_id)
