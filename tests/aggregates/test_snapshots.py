"""Property: an aggregate loaded from a snapshot and later events equals one from events alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import project_aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregates.alert_rule import AlertRule
from aggregates.errors import DomainError
from aggregates.services.alert_rules import AlertRules
from tests.aggregates.conftest import rule_spec

Command = Callable[[AlertRules, UUID], Any]

COMMANDS: dict[str, Command] = {
    "pause": lambda rules, rule_id: rules.pause(rule_id),
    "resume": lambda rules, rule_id: rules.resume(rule_id),
    "severity": lambda rules, rule_id: rules.update(rule_id, rule_spec(severity="critical")),
    "rename": lambda rules, rule_id: rules.update(rule_id, rule_spec(name=f"r{uuid4().hex[:4]}")),
    "snapshot": lambda rules, rule_id: rules.take_snapshot(rule_id),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.sampled_from(sorted(COMMANDS)), min_size=1, max_size=30))
def test_snapshot_plus_events_equals_events_alone(rules: AlertRules, steps: list[str]) -> None:
    rule_id = rules.create(uuid4(), rule_spec())
    for step in steps:
        try:
            COMMANDS[step](rules, rule_id)
        except DomainError:
            continue  # e.g. resuming an active rule: refused, nothing recorded
    loaded = rules.load(rule_id)
    replayed = project_aggregate(None, rules.events.get(rule_id))
    assert isinstance(replayed, AlertRule)
    assert loaded.version == replayed.version
    assert loaded.public_state() == replayed.public_state()
    assert (loaded.created_on, loaded.modified_on) == (replayed.created_on, replayed.modified_on)
