"""A restarted engine continues where the old one stopped; its memory stays bounded."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from rules.engine import MarketStateError, RuleEngine
from rules.firing import Observation, RuleState
from tests.rules.support import above, crosses_up, rule, tick

CONDITIONS: list[dict[str, Any]] = [
    above(101),
    {"type": "below", "threshold": 99},
    crosses_up(100),
    {"type": "crosses_down", "threshold": 100},
    {"type": "percent_change", "percent": 1, "window_s": 30, "direction": "either"},
    {"type": "absolute_move", "amount": 2, "window_s": 300, "direction": "up"},
    {"type": "volume_spike", "multiple": 2, "window_s": 60},
]


def market(seed: int) -> tuple[list[RuleState], list[Observation]]:
    rng = random.Random(seed)
    rules = [
        rule(
            rng.choice(CONDITIONS),
            venue=rng.choice([None, "binance", "kraken"]),
            frequency=rng.choice(
                [{"kind": "once"}, {"kind": "every_time", "cooldown_s": rng.choice([0, 10, 60])}]
            ),
        )
        for _ in range(60)
    ]
    price = 100.0
    ticks = []
    for second in range(600):
        price += rng.choice([-0.5, 0, 0.5])
        venue = rng.choice(["binance", "kraken"])
        ticks.append(tick(price, second, volume=rng.choice([0.5, 1, 4]), venue=venue))
    return rules, ticks


def snapshot(engine: RuleEngine) -> tuple[list[RuleState], dict[str, Any]]:
    """The engine's rules and market state, the state through JSON as a snapshot keeps it."""
    return list(engine.rules()), json.loads(json.dumps(engine.market_state()))


@pytest.mark.parametrize("cut", [0, 1, 45, 300, 599])
@pytest.mark.parametrize("rules_first", [True, False], ids=["rules first", "state first"])
def test_a_restored_engine_fires_what_the_old_one_would_have(cut: int, rules_first: bool) -> None:
    rules, ticks = market(seed=cut)
    old = RuleEngine()
    for held in rules:
        old.upsert(held)
    for each in ticks[:cut]:
        old.evaluate(each)
    held_rules, state = snapshot(old)
    new = RuleEngine()
    if not rules_first:
        new.restore_market_state(state)
    for held in held_rules:
        new.upsert(held)
    if rules_first:
        new.restore_market_state(state)
    assert len(new) == len(old)
    fired = []
    for each in ticks[cut:]:
        fired.append(new.evaluate(each))
        assert fired[-1] == old.evaluate(each)
    assert list(new.rules()) == list(old.rules())
    assert any(fired[:100])


def test_a_restored_arming_is_forgotten_once_ticks_flow() -> None:
    """A rule the state names but nobody upserts before the first tick is armed anew."""
    crossing = rule(crosses_up(100))
    old = RuleEngine()
    old.upsert(crossing)
    old.evaluate(tick(99, 0))
    _, state = snapshot(old)
    new = RuleEngine()
    new.restore_market_state(state)
    new.evaluate(tick(99, 1))
    new.upsert(crossing)
    assert new.evaluate(tick(101, 2)) == []  # armed after the 99 at 1 s: only sets it


def test_a_state_is_restored_into_a_fresh_engine_only() -> None:
    used = RuleEngine()
    used.evaluate(tick(100))
    with pytest.raises(MarketStateError, match="fresh engine; this one has evaluated 1 ticks"):
        used.restore_market_state(RuleEngine().market_state())


def test_a_state_of_another_version_is_refused() -> None:
    state = RuleEngine().market_state() | {"version": 99}
    with pytest.raises(MarketStateError, match="version 99 is not 2"):
        RuleEngine().restore_market_state(state)


def test_a_malformed_state_is_refused() -> None:
    state = RuleEngine().market_state() | {"armed": {"not a uuid": [1, None]}}
    with pytest.raises(MarketStateError, match="malformed market state"):
        RuleEngine().restore_market_state(state)


def window_rows(engine: RuleEngine) -> list[int]:
    """How many ticks each market's window keeps."""
    markets = engine.market_state()["markets"]
    return [len(market["window"]) for market in markets if market["window"]]


def test_windows_keep_only_what_the_longest_window_needs() -> None:
    engine = RuleEngine()
    long = rule({"type": "absolute_move", "amount": 5, "window_s": 60, "direction": "up"})
    short = rule({"type": "volume_spike", "multiple": 5, "window_s": 10})
    engine.upsert(long)
    engine.upsert(short)
    for second in range(1000):
        engine.evaluate(tick(100, second))
    assert window_rows(engine) == [60]  # ticks at 940..999: later than 999 - 60
    engine.remove(long.rule_id)
    engine.evaluate(tick(100, 1000))
    assert window_rows(engine) == [10]
    engine.remove(short.rule_id)
    assert engine.market_state()["markets"] == []


def test_each_venue_keeps_a_window_of_its_own() -> None:
    engine = RuleEngine()
    engine.upsert(rule({"type": "absolute_move", "amount": 5, "window_s": 60, "direction": "up"}))
    for second in range(10):
        engine.evaluate(tick(100, second, venue="binance"))
    engine.evaluate(tick(100, 10, venue="manual"))
    markets = {market["venue"]: market for market in engine.market_state()["markets"]}
    assert {venue: len(market["window"]) for venue, market in markets.items()} == {
        "binance": 10,
        "manual": 1,
    }
