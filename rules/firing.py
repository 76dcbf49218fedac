"""What the rule engines take and give: a rule's state, a tick, a firing and its message.

The engines and the `AlertRule` aggregate must agree on when a rule may fire, or the
aggregate refuses the firing; so the two rules about a rule's state that both engines
apply (`after_firing` and `merged`) live here, once, next to the data they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from aggregates.message_template import render
from aggregates.rule_spec import (
    AbsoluteMove,
    Condition,
    Once,
    PercentChange,
    RuleSpec,
    SymbolTarget,
    VolumeSpike,
    fires_again_at,
)
from events.numbers import figure


@dataclass(frozen=True, slots=True)
class RuleState:
    """One rule as the engine holds it: the aggregate's state, without its history."""

    rule_id: UUID
    owner_id: UUID
    spec: RuleSpec
    status: str
    """One of `AlertRule`'s statuses: active, paused, completed, expired, deleted."""
    last_triggered_at: datetime | None = None
    trigger_count: int = 0
    armed_at: datetime | None = None
    """When the rules' log last made the rule start watching: created, resumed, or its
    target or condition changed (None: not known, as for rules built in tests). Post
    rules fire only on posts that arrived from then on; the price engine arms by tick
    count instead and ignores it."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One tick as the engine sees it; `at` is the venue's time (aware), not arrival."""

    symbol: str
    venue: str
    price: float
    volume: float
    at: datetime
    event_id: UUID


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule whose condition held on a tick and whose frequency let it fire.

    `value` is what was compared with the threshold: the price (above, below, crossings),
    the signed move in percent or quote currency (negative when the price fell), or the
    volume as a multiple of its rolling mean. `values` holds everything else compared.
    """

    rule_id: UUID
    owner_id: UUID
    symbol: str
    condition: str
    severity: str
    price: float
    value: float | None
    values: dict[str, float]
    message: str
    channels: tuple[str, ...]
    at: datetime
    tick_event_id: UUID


# -- a rule's state across firings and updates ---------------------------------------------


def after_firing(state: RuleState, at: datetime) -> RuleState:
    """The state once the rule fired at `at`, as the aggregate's Triggered event makes it."""
    once = isinstance(state.spec.frequency, Once)
    return RuleState(
        rule_id=state.rule_id,
        owner_id=state.owner_id,
        spec=state.spec,
        status="completed" if once and state.status == "active" else state.status,
        last_triggered_at=at,
        trigger_count=state.trigger_count + 1,
        armed_at=state.armed_at,
    )


def merged(held: RuleState | None, incoming: RuleState) -> RuleState:
    """What an engine keeps when told a rule's state while it may know a newer firing.

    The engine records its own firings at once, while the state it is told comes from
    the aggregate and may lag behind them. So the last firing and the count never go
    back, and a rule the engine completed stays completed against an "active" state of
    the same spec (the aggregate only reactivates a completed rule when its spec
    changes). Everything else is taken from `incoming`.
    """
    if held is None:
        return incoming
    last = incoming.last_triggered_at
    if held.last_triggered_at is not None and (last is None or held.last_triggered_at > last):
        last = held.last_triggered_at
    stale = (
        held.status == "completed"
        and incoming.status == "active"
        and incoming.spec == held.spec
        and last != incoming.last_triggered_at
    )
    return RuleState(
        rule_id=incoming.rule_id,
        owner_id=incoming.owner_id,
        spec=incoming.spec,
        status="completed" if stale else incoming.status,
        last_triggered_at=last,
        trigger_count=max(held.trigger_count, incoming.trigger_count),
        armed_at=incoming.armed_at,
    )


def quiet_until(state: RuleState) -> datetime | None:
    """When the rule may fire again, as `AlertRule.quiet_until` says (None: whenever its
    condition holds; a once-rule that fired is completed, not quiet)."""
    return fires_again_at(state.spec.frequency, state.last_triggered_at)


# -- the firing and its message ------------------------------------------------------------


def threshold_of(condition: Condition) -> float:
    """The figure a trader set: a price, a percent, an amount or a volume multiple."""
    if isinstance(condition, PercentChange):
        return condition.percent
    if isinstance(condition, AbsoluteMove):
        return condition.amount
    if isinstance(condition, VolumeSpike):
        return condition.multiple
    threshold: float = getattr(condition, "threshold", 0.0)
    return threshold


def make_firing(
    state: RuleState, tick: Observation, value: float, values: dict[str, float]
) -> Firing:
    """The firing of `state`'s rule on `tick`, with its message rendered."""
    spec = state.spec
    return Firing(
        rule_id=state.rule_id,
        owner_id=state.owner_id,
        symbol=tick.symbol,
        condition=spec.condition.type,
        severity=spec.severity,
        price=tick.price,
        value=value,
        values=values,
        message=render_message(state, tick, value),
        channels=tuple(spec.channels),
        at=tick.at,
        tick_event_id=tick.event_id,
    )


def render_message(state: RuleState, tick: Observation, value: float) -> str:
    """The rule's own template filled in, or a sentence that says what happened.

    A template whose format spec fails at run time (``{price:d}`` on a float), or one
    recorded before templates were bounded (``{price:>20000000}``), gives way to the
    default sentence rather than to no alert, or to one nobody can read
    (`aggregates.message_template.render`).
    """
    spec = state.spec
    if spec.message_template is not None:
        fields: dict[str, Any] = {
            "symbol": tick.symbol,
            "price": tick.price,
            "threshold": threshold_of(spec.condition),
            "condition": spec.condition.type,
            "rule": spec.name or str(state.rule_id),
            "value": value,
            "target": _target_text(spec),
        }
        rendered = render(spec.message_template, fields)
        if rendered is not None:
            return rendered
    return default_message(spec, tick.price, value, tick.venue)


def default_message(spec: RuleSpec, price: float, value: float, venue: str) -> str:
    """E.g. "BTC/USDT on binance crossed above 65,000 (now 65,012.5)": the venue whose
    market moved, named even for a rule on any venue (each venue is a market of its own:
    a price posted by hand says "on manual")."""
    condition = spec.condition
    now = f"(now {figure(price)})"
    assert isinstance(spec.target, SymbolTarget), "only price rules fire on ticks"
    target = f"{spec.target.symbol} on {venue}"
    if isinstance(condition, PercentChange):
        verb = "rose" if value >= 0 else "fell"
        return f"{target} {verb} {abs(value):.2f}% within {duration(condition.window_s)} {now}"
    if isinstance(condition, AbsoluteMove):
        verb = "rose" if value >= 0 else "fell"
        within = f"within {duration(condition.window_s)}"
        return f"{target} {verb} by {figure(abs(value))} {within} {now}"
    if isinstance(condition, VolumeSpike):
        average = f"its {duration(condition.window_s)} average"
        return f"{target} volume at {value:.1f}x {average} {now}"
    verb = _VERBS.get(condition.type, condition.type)
    return f"{target} {verb} {figure(threshold_of(condition))} {now}"


_VERBS = {
    "above": "is above",
    "below": "is below",
    "crosses_up": "crossed above",
    "crosses_down": "crossed below",
}


def _target_text(spec: RuleSpec) -> str:
    target = spec.target
    assert isinstance(target, SymbolTarget), "only price rules fire on ticks"
    return target.symbol if target.venue is None else f"{target.symbol} on {target.venue}"


def duration(seconds: int) -> str:
    """A window as people say it: 90s, 15m, 1h30m, 2d."""
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
