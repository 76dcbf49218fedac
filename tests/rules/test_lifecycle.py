"""Frequency, expiry, pause and resume, updates, and firings learnt from elsewhere."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from aggregates.rule_spec import RuleSpec
from rules.firing import RuleState, merged
from tests.rules.support import (
    Evaluator,
    above,
    at,
    crosses_up,
    feed,
    rule,
    spec,
    state,
    tick,
    values,
)


def test_a_once_rule_completes_when_it_fires(engine: Evaluator) -> None:
    once = rule(above(100), frequency={"kind": "once"})
    engine.upsert(once)
    assert len(engine) == 1
    assert values(engine, tick(101, 0), tick(102, 1)) == [101]
    held = state(engine, once.rule_id)
    assert (held.status, held.trigger_count, held.last_triggered_at) == ("completed", 1, at(0))
    assert len(engine) == 0


@pytest.mark.parametrize(
    "frequency",
    [{"kind": "every_time", "cooldown_s": 60}, {"kind": "at_most_once_per", "interval_s": 60}],
    ids=["every_time", "at_most_once_per"],
)
def test_a_rule_is_quiet_until_its_cooldown_is_over(
    engine: Evaluator, frequency: dict[str, object]
) -> None:
    engine.upsert(rule(above(100), frequency=frequency))
    path = [tick(101, 0), tick(102, 30), tick(103, 59.999999), tick(104, 60), tick(105, 61)]
    assert values(engine, *path) == [101, 104]


def test_no_cooldown_fires_on_every_tick_that_holds(engine: Evaluator) -> None:
    engine.upsert(rule(above(100)))
    assert values(engine, tick(101, 0), tick(101, 0), tick(99, 1), tick(102, 1)) == [101, 101, 102]


def test_a_rule_is_silent_from_its_expiry_on(engine: Evaluator) -> None:
    engine.upsert(rule(above(100), expires_at=at(10)))
    assert values(engine, tick(101, 9.999999), tick(102, 10), tick(103, 11)) == [101]
    assert len(engine) == 0


def test_a_paused_rule_is_silent_and_resuming_arms_it_again(engine: Evaluator) -> None:
    active = rule(crosses_up(100))
    engine.upsert(replace(active, status="paused"))
    assert values(engine, tick(99, 0), tick(101, 1)) == []
    engine.evaluate(tick(99, 2))
    engine.upsert(active)
    assert values(engine, tick(101, 3)) == []  # the price before resuming does not count
    assert values(engine, tick(99, 4), tick(101, 5)) == [101]


def test_a_new_threshold_arms_a_rule_again(engine: Evaluator) -> None:
    first = rule(crosses_up(100))
    engine.upsert(first)
    engine.evaluate(tick(99, 0))
    engine.upsert(replace(first, spec=spec(crosses_up(98))))
    assert values(engine, tick(101, 1)) == []


def test_other_changes_keep_a_rule_armed(engine: Evaluator) -> None:
    first = rule(crosses_up(100))
    engine.upsert(first)
    engine.evaluate(tick(99, 0))
    engine.upsert(replace(first, spec=spec(crosses_up(100), name="renamed", expires_at=at(99))))
    assert values(engine, tick(101, 1)) == [101]


def test_a_removed_rule_is_forgotten(engine: Evaluator) -> None:
    held = rule(above(100))
    engine.upsert(held)
    engine.remove(held.rule_id)
    engine.remove(uuid4())
    assert values(engine, tick(101)) == []
    assert list(engine.rules()) == []


def test_a_rule_that_stops_watching_a_symbol_is_dropped(engine: Evaluator) -> None:
    held = rule(above(100))
    engine.upsert(held)
    posts = RuleSpec.model_validate(
        {
            "target": {"kind": "posts", "keyword": "btc"},
            "condition": {"type": "mentioned"},
            "channels": ["web"],
        }
    )
    engine.upsert(replace(held, spec=posts))
    assert list(engine.rules()) == []
    assert values(engine, tick(101)) == []


def test_firings_of_one_tick_come_ordered_by_rule_id(engine: Evaluator) -> None:
    rules = [rule(above(threshold)) for threshold in (90, 95, 99)]
    for each in rules:
        engine.upsert(each)
    [fired] = feed(engine, tick(100))
    assert [firing.rule_id for firing in fired] == sorted(each.rule_id for each in rules)


def test_a_firing_learnt_from_elsewhere_starts_the_cooldown(engine: Evaluator) -> None:
    held = rule(above(100), frequency={"kind": "every_time", "cooldown_s": 60})
    engine.upsert(held)
    engine.record_firing(held.rule_id, at(0))
    engine.record_firing(held.rule_id, at(0))  # the same firing again: no effect
    engine.record_firing(held.rule_id, at(-5))  # an older one: already reflected
    engine.record_firing(uuid4(), at(0))  # a rule it does not hold: ignored
    assert state(engine, held.rule_id).trigger_count == 1
    assert values(engine, tick(101, 30), tick(101, 60)) == [101]


def test_a_once_firing_learnt_from_elsewhere_completes_the_rule(engine: Evaluator) -> None:
    held = rule(above(100), frequency={"kind": "once"})
    engine.upsert(held)
    engine.record_firing(held.rule_id, at(0))
    assert state(engine, held.rule_id).status == "completed"
    assert values(engine, tick(101, 1)) == []


def test_a_stale_state_does_not_undo_a_firing(engine: Evaluator) -> None:
    held = rule(above(100), frequency={"kind": "once"})
    engine.upsert(held)
    assert values(engine, tick(101, 0)) == [101]
    engine.upsert(held)  # the aggregate has not recorded the firing yet
    assert state(engine, held.rule_id).status == "completed"
    assert values(engine, tick(102, 1)) == []


def test_a_changed_spec_reactivates_a_completed_rule(engine: Evaluator) -> None:
    held = rule(above(100), frequency={"kind": "once"})
    engine.upsert(held)
    engine.evaluate(tick(101, 0))
    engine.upsert(replace(held, spec=spec(above(105), frequency={"kind": "once"})))
    assert values(engine, tick(104, 1), tick(106, 2)) == [106]
    assert state(engine, held.rule_id).trigger_count == 2


def test_the_last_firing_never_goes_back() -> None:
    held = rule(above(100), last=at(10), count=3)
    older = replace(held, last_triggered_at=at(5), trigger_count=2)
    assert merged(held, older) == held
    newer = replace(held, last_triggered_at=at(20), trigger_count=4, status="paused")
    assert merged(held, newer) == newer


def test_a_state_that_knows_the_firing_is_taken_as_it_is() -> None:
    completed = replace(rule(above(100), last=at(10), count=1), status="completed")
    # the same spec again, active, with the same last firing: the aggregate says so
    reactivated = replace(completed, status="active")
    assert merged(completed, reactivated) == reactivated
    assert merged(None, reactivated) is reactivated


def test_a_rule_state_is_what_the_engine_reports(engine: Evaluator) -> None:
    held = rule(above(100), frequency={"kind": "at_most_once_per", "interval_s": 5})
    engine.upsert(held)
    feed(engine, tick(101, 0), tick(101, 6))
    assert state(engine, held.rule_id) == RuleState(
        rule_id=held.rule_id,
        owner_id=held.owner_id,
        spec=held.spec,
        status="active",
        last_triggered_at=at(6),
        trigger_count=2,
    )
