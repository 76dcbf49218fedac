"""Alert rules as their events say: the fold from the rules' log to `RuleState`s.

The engine learns rules from the AlertRule aggregate's events in the alert-rules
application's notification log (no polling of a read model), and learns firings from
two places: the aggregate's Triggered events, and the `alert.triggered` events the
engine appended itself but the aggregate may not have recorded yet. Both folds live
here, so a partition's rules are the same whether they came from a snapshot, a catch-up
or the live feed. A rule's `armed_at` is the log time of the event that last made it
start watching (created, resumed, target or condition changed, a completed rule
reactivated): post rules ignore posts that arrived before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from aggregates.rule_spec import RuleSpec, SymbolTarget
from events.catalog import AlertTriggered
from events.envelope import RecordedEvent
from events.names import StreamNames
from rules.firing import RuleState, after_firing

RULES_APPLICATION = "alert_rules"
"""The application (service) whose log holds the rules' events."""

RuleStates = dict[UUID, RuleState]


def rules_log(names: StreamNames) -> str:
    """The stream of every AlertRule event, in commit order."""
    return names.notification_log(StreamNames.application_tag(RULES_APPLICATION))


def symbol_of(state: RuleState) -> str | None:
    """The symbol a price rule watches (None: not a price rule)."""
    target = state.spec.target
    return target.symbol if isinstance(target, SymbolTarget) else None


Change = Callable[[RuleState, Any, datetime], RuleState]
"""How one rule event changes a rule, given the event's payload and its time in the log."""


def _with(state: RuleState, **changes: Any) -> RuleState:
    return replace(state, **changes)


def _updated(state: RuleState, payload: Any, at: datetime) -> RuleState:
    spec: RuleSpec = payload.spec
    rearmed = state.status == "completed" or (
        spec.target != state.spec.target or spec.condition != state.spec.condition
    )
    return _with(
        state,
        spec=spec,
        status="active" if state.status == "completed" else state.status,
        armed_at=at if rearmed else state.armed_at,
    )


def _triggered(state: RuleState, payload: Any, _at: datetime) -> RuleState:
    fired_at: datetime = payload.trigger.observed_at
    if state.last_triggered_at is not None and fired_at <= state.last_triggered_at:
        return state  # learnt already, from the alert the engine appended
    return after_firing(state, fired_at)


def _resumed(state: RuleState, _payload: Any, at: datetime) -> RuleState:
    return _with(state, status="active", armed_at=at)


def _status(status: str) -> Change:
    return lambda state, _payload, _at: _with(state, status=status)


CHANGES: dict[str, Change] = {
    "alert_rule.updated": _updated,
    "alert_rule.paused": _status("paused"),
    "alert_rule.resumed": _resumed,
    "alert_rule.triggered": _triggered,
    "alert_rule.expired": _status("expired"),
    "alert_rule.deleted": _status("deleted"),
}
RULE_EVENT_TYPES = frozenset({"alert_rule.created", *CHANGES})


def rule_id_of(recorded: RecordedEvent) -> UUID:
    return UUID(recorded.event.key)


def apply_rule_event(held: RuleState | None, recorded: RecordedEvent) -> RuleState | None:
    """The rule after `recorded` (None: unknown rule, or not a rule event)."""
    event = recorded.event
    if event.type == "alert_rule.created":
        payload: Any = event.payload
        return RuleState(
            rule_id=rule_id_of(recorded),
            owner_id=UUID(str(payload.owner_id)),
            spec=payload.spec,
            status="active",
            armed_at=recorded.position.time,
        )
    change = CHANGES.get(event.type)
    if change is None or held is None:
        return held
    return change(held, event.payload, recorded.position.time)


def apply_alert(held: RuleState | None, alert: AlertTriggered) -> RuleState | None:
    """The rule after a firing the engine appended (idempotent: older firings are known)."""
    if held is None:
        return None
    last = held.last_triggered_at
    if last is not None and alert.triggered_at <= last:
        return held
    return after_firing(held, alert.triggered_at)
