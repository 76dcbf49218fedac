"""An alert rule's life: what each state allows, and frequency enforced by the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from aggregates.errors import DomainError, NotFoundError
from aggregates.services.alert_rules import AlertRules
from tests.aggregates.conftest import rule_spec

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def trigger(at: datetime, value: float = 100_001) -> dict[str, Any]:
    return {
        "source_event_id": uuid4(),
        "source_stream": "ix:{p3}:ticks",
        "source_position": "1795252964946-0",
        "observed_at": at,
        "value": value,
        "message": "BTC/USDT crossed 100000",
    }


def make(rules: AlertRules, **changes: Any) -> UUID:
    return rules.create(uuid4(), rule_spec(**changes))


def test_a_new_rule_is_active(rules: AlertRules) -> None:
    owner = uuid4()
    rule = rules.load(rules.create(owner, rule_spec()))
    assert (rule.owner_id, rule.status, rule.trigger_count) == (owner, "active", 0)


def test_pause_and_resume(rules: AlertRules) -> None:
    rule_id = make(rules)
    rules.pause(rule_id)
    assert rules.load(rule_id).status == "paused"
    with pytest.raises(DomainError, match="only an active rule can be paused"):
        rules.pause(rule_id)
    with pytest.raises(DomainError, match="a paused rule does not fire"):
        rules.record_trigger(rule_id, trigger(T0))
    rules.resume(rule_id)
    assert rules.load(rule_id).status == "active"
    with pytest.raises(DomainError, match="only a paused rule can be resumed"):
        rules.resume(rule_id)


def test_a_once_rule_completes_when_it_fires(rules: AlertRules) -> None:
    rule_id = make(rules, frequency={"kind": "once"})
    rules.record_trigger(rule_id, trigger(T0))
    rule = rules.load(rule_id)
    assert (rule.status, rule.trigger_count, rule.last_triggered_at) == ("completed", 1, T0)
    with pytest.raises(DomainError, match="a completed rule does not fire"):
        rules.record_trigger(rule_id, trigger(T0 + timedelta(hours=1)))
    rules.update(rule_id, rule_spec(frequency={"kind": "once"}, name="again"))
    assert rules.load(rule_id).status == "active"


def test_cooldown_between_firings(rules: AlertRules) -> None:
    rule_id = make(rules, frequency={"kind": "every_time", "cooldown_s": 60})
    rules.record_trigger(rule_id, trigger(T0))
    with pytest.raises(DomainError, match="may fire again at 2026-11-21T12:01:00"):
        rules.record_trigger(rule_id, trigger(T0 + timedelta(seconds=59)))
    rules.record_trigger(rule_id, trigger(T0 + timedelta(seconds=60)))
    assert rules.load(rule_id).trigger_count == 2


def test_at_most_once_per_interval(rules: AlertRules) -> None:
    rule_id = make(rules, frequency={"kind": "at_most_once_per", "interval_s": 3600})
    rules.record_trigger(rule_id, trigger(T0))
    with pytest.raises(DomainError):
        rules.record_trigger(rule_id, trigger(T0 + timedelta(minutes=59)))
    rules.record_trigger(rule_id, trigger(T0 + timedelta(hours=1)))


def test_expiry(rules: AlertRules) -> None:
    rule_id = make(rules, expires_at=(T0 + timedelta(days=1)).isoformat())
    with pytest.raises(DomainError, match="has not reached its expiry"):
        rules.expire(rule_id, T0)
    rules.expire(rule_id, T0 + timedelta(days=1))
    assert rules.load(rule_id).status == "expired"
    with pytest.raises(DomainError, match="cannot change a rule that is expired"):
        rules.update(rule_id, rule_spec())
    with pytest.raises(DomainError, match="only a paused rule"):
        rules.resume(rule_id)


def test_deleted_rules_accept_nothing(rules: AlertRules) -> None:
    rule_id = make(rules)
    rules.delete(rule_id)
    assert rules.load(rule_id).status == "deleted"
    for command in (rules.delete, rules.pause, rules.resume):
        with pytest.raises(DomainError):
            command(rule_id)
    with pytest.raises(DomainError, match="cannot change a rule that is deleted"):
        rules.update(rule_id, rule_spec())


def test_updates_are_validated_and_unchanged_specs_record_nothing(rules: AlertRules) -> None:
    rule_id = make(rules)
    before = rules.load(rule_id).version
    rules.update(rule_id, rule_spec())
    assert rules.load(rule_id).version == before
    rules.update(rule_id, rule_spec(severity="critical"))
    assert rules.load(rule_id).spec.severity == "critical"


def test_unknown_rules_are_not_found(rules: AlertRules) -> None:
    with pytest.raises(NotFoundError, match="no alert_rule"):
        rules.pause(uuid4())
