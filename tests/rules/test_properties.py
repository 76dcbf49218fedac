"""The indexed engine fires exactly what the reference evaluator fires, on any script.

Exactly: the same firings, tick by tick, field by field (values and messages
included), the same rule states at the end; also across restarts from a snapshot of
the engine (rules + market state, through JSON). And the aggregate, which refuses a
firing its frequency does not allow, accepts every firing the engine makes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from aggregates.alert_rule import AlertRule, Trigger
from rules.engine import RuleEngine
from rules.firing import Firing, RuleState
from rules.reference import ReferenceEngine
from tests.rules.scripts import (
    Market,
    Record,
    Remove,
    Restart,
    Step,
    Tick,
    Upsert,
    rule_id,
    rule_state,
    scripts,
)
from tests.rules.support import Evaluator

Outcome = tuple[list[list[Firing]], list[RuleState], int]

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def play(script: list[Step], engine: Evaluator) -> Outcome:
    """Run a script: each tick's firings, then the rules' states and how many evaluate."""
    market = Market()
    fired = []
    for step in script:
        if isinstance(step, Tick):
            fired.append(engine.evaluate(market.observe(step)))
        elif isinstance(step, Upsert):
            engine.upsert(rule_state(step))
        elif isinstance(step, Remove):
            engine.remove(rule_id(step.slot))
        elif isinstance(step, Record):
            at = market.now() - timedelta(seconds=step.back_s)
            engine.record_firing(rule_id(step.slot), at)
        elif isinstance(step, Restart) and isinstance(engine, RuleEngine):
            engine = restarted(engine, rules_first=market.count % 2 == 0)
    return fired, list(engine.rules()), len(engine)


def restarted(engine: RuleEngine, *, rules_first: bool) -> RuleEngine:
    """A new engine from the old one's snapshot, as a restarted process builds it."""
    snapshot = json.loads(json.dumps(engine.market_state()))
    fresh = RuleEngine()
    if not rules_first:
        fresh.restore_market_state(snapshot)
    for held in engine.rules():
        fresh.upsert(held)
    if rules_first:
        fresh.restore_market_state(snapshot)
    return fresh


def assert_same(script: list[Step]) -> None:
    indexed = play(script, RuleEngine())
    reference = play(script, ReferenceEngine())
    for number, (mine, theirs) in enumerate(zip(indexed[0], reference[0], strict=True)):
        assert mine == theirs, f"tick {number}"
    assert indexed[1:] == reference[1:]


@PROPERTY
@given(scripts(steps=80))
def test_the_engine_fires_what_the_reference_fires(script: list[Step]) -> None:
    assert_same(script)


@PROPERTY
@given(scripts(steps=80, restarts=True))
def test_a_restarted_engine_fires_what_the_reference_fires(script: list[Step]) -> None:
    assert_same(script)


@pytest.mark.slow
@pytest.mark.timeout(600)
@HEAVY
@given(scripts(steps=400, restarts=True))
def test_long_scripts_fire_the_same(script: list[Step]) -> None:
    assert_same(script)


@pytest.mark.parametrize(
    "condition",
    [
        "above",
        "below",
        "crosses_up",
        "crosses_down",
        "percent_change",
        "absolute_move",
        "volume_spike",
    ],
)
def test_scripts_make_every_condition_fire(condition: str) -> None:
    """The property above is not vacuous: scripts fire every kind of rule."""

    def fires(script: list[Step]) -> bool:
        fired = play(script, ReferenceEngine())[0]
        return any(firing.condition == condition for tick in fired for firing in tick)

    quick = settings(database=None, max_examples=2000, phases=[Phase.generate])
    find(scripts(steps=80), fires, settings=quick)


@PROPERTY
@given(scripts(steps=80))
def test_the_aggregate_accepts_every_firing(script: list[Step]) -> None:
    """Rules as the aggregate holds them (no mid-path changes), every tick of the script."""
    rules = {
        step.slot: replace(rule_state(step), last_triggered_at=None)
        for step in script
        if isinstance(step, Upsert)
    }
    engine = RuleEngine()
    aggregates = {}
    for held in rules.values():
        if held.status == "active":
            engine.upsert(held)
            aggregates[held.rule_id] = AlertRule(owner_id=held.owner_id, spec=held.spec)
    market = Market()
    for step in script:
        if isinstance(step, Tick):
            for firing in engine.evaluate(market.observe(step)):
                aggregates[firing.rule_id].record_trigger(trigger(firing))
    for held in engine.rules():
        aggregate = aggregates[held.rule_id]
        assert (held.status, held.trigger_count, held.last_triggered_at) == (
            aggregate.status,
            aggregate.trigger_count,
            aggregate.last_triggered_at,
        )


def trigger(firing: Firing) -> Trigger:
    return Trigger(
        source_event_id=firing.tick_event_id,
        source_stream="ix:{p0}:ticks",
        source_position=f"1-{uuid4().int % 1000}",
        observed_at=firing.at,
        value=firing.value,
        message=firing.message,
    )
