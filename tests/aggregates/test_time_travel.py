"""Any aggregate at any past version or time, and its whole history."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from aggregates.errors import NotFoundError
from aggregates.services.alert_rules import AlertRules
from tests.aggregates.conftest import rule_spec


def test_views_at_versions_and_times(rules: AlertRules) -> None:
    rule_id = rules.create(uuid4(), rule_spec(severity="info"))
    time.sleep(0.02)
    middle = datetime.now(UTC)
    time.sleep(0.02)
    rules.update(rule_id, rule_spec(severity="critical"))
    rules.pause(rule_id)

    first = rules.view(rule_id, version=1)
    assert (first.version, first.state["spec"]["severity"], first.state["status"]) == (
        1,
        "info",
        "active",
    )
    assert rules.view(rule_id, at=middle).version == 1
    now = rules.view(rule_id)
    assert (now.version, now.state["spec"]["severity"], now.state["status"]) == (
        3,
        "critical",
        "paused",
    )
    assert now.kind == "alert_rule"
    assert now.created_on <= now.modified_on

    history = rules.history(rule_id)
    assert [type(event).__name__ for event in history] == ["Created", "Updated", "Paused"]
    assert [event.originator_version for event in history] == [1, 2, 3]


def test_before_it_existed_there_is_nothing(rules: AlertRules) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    rule_id = rules.create(uuid4(), rule_spec())
    with pytest.raises(NotFoundError, match="did not exist yet"):
        rules.view(rule_id, at=before)
    with pytest.raises(NotFoundError):
        rules.history(uuid4())
    with pytest.raises(ValueError, match="not both"):
        rules.view(rule_id, version=1, at=before)


def test_versions_past_a_snapshot_come_from_events(rules: AlertRules) -> None:
    rule_id = rules.create(uuid4(), rule_spec())
    for _ in range(3):
        rules.pause(rule_id)
        rules.resume(rule_id)
    rules.take_snapshot(rule_id)
    rules.pause(rule_id)
    assert rules.view(rule_id, version=2).state["status"] == "paused"
    assert rules.view(rule_id, version=7).state["status"] == "active"
    assert rules.view(rule_id).state["status"] == "paused"
