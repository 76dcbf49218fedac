"""When each condition holds, with its edges, on both engines."""

from __future__ import annotations

import pytest

from tests.rules.support import Evaluator, above, crosses_up, feed, rule, tick, values


def test_above_fires_strictly_over_the_threshold(engine: Evaluator) -> None:
    engine.upsert(rule(above(100)))
    assert values(engine, tick(99), tick(100), tick(100.5, 1)) == [100.5]


def test_below_fires_strictly_under_the_threshold(engine: Evaluator) -> None:
    engine.upsert(rule({"type": "below", "threshold": 100}))
    assert values(engine, tick(101), tick(100), tick(99.5, 1)) == [99.5]


def test_a_firing_reports_what_was_compared(engine: Evaluator) -> None:
    engine.upsert(rule(crosses_up(100)))
    [[], [firing]] = feed(engine, tick(99), tick(101, 1))
    assert (firing.condition, firing.price, firing.value) == ("crosses_up", 101, 101)
    assert firing.values == {"threshold": 100, "previous": 99}
    assert firing.channels == ("web", "tg-main")


def test_a_crossing_needs_a_previous_price(engine: Evaluator) -> None:
    engine.upsert(rule(crosses_up(100)))
    assert values(engine, tick(105), tick(99, 1), tick(101, 2)) == [101]


@pytest.mark.parametrize(
    ("condition", "path", "fired"),
    [
        (crosses_up(100), [100, 101], [101]),  # from exactly the threshold
        (crosses_up(100), [99, 100], []),  # to exactly it is not above it
        ({"type": "crosses_down", "threshold": 100}, [100, 99], [99]),
        ({"type": "crosses_down", "threshold": 100}, [101, 100], []),
        (crosses_up(100), [101, 102, 99, 101], [101]),  # only when it crosses
    ],
)
def test_crossing_edges(
    engine: Evaluator, condition: dict[str, float], path: list[float], fired: list[float]
) -> None:
    engine.upsert(rule(condition))
    assert values(engine, *(tick(price, n) for n, price in enumerate(path))) == fired


def test_the_first_tick_after_arming_only_sets_the_previous_price(engine: Evaluator) -> None:
    engine.evaluate(tick(99, 0))
    engine.upsert(rule(crosses_up(100)))
    assert values(engine, tick(101, 1)) == []
    assert values(engine, tick(99, 2), tick(101, 3)) == [101]


def test_an_any_venue_rule_crosses_on_each_venue_s_own_previous_price(engine: Evaluator) -> None:
    engine.upsert(rule(crosses_up(100)))
    # 99 on kraken then 101 on binance is two markets, neither of which crossed
    assert values(engine, tick(99, 0, venue="kraken"), tick(101, 1, venue="binance")) == []
    assert values(engine, tick(99, 2, venue="binance"), tick(101, 3, venue="kraken")) == [101]


def test_a_venue_rule_sees_only_its_venue(engine: Evaluator) -> None:
    engine.upsert(rule(crosses_up(100), venue="binance"))
    engine.upsert(rule(above(200), venue="binance"))
    assert values(engine, tick(99, 0, venue="kraken"), tick(101, 1, venue="binance")) == []
    assert values(engine, tick(250, 2, venue="kraken")) == []
    assert values(engine, tick(99, 3, venue="binance"), tick(101, 4, venue="binance")) == [101]


def test_other_symbols_do_not_concern_a_rule(engine: Evaluator) -> None:
    engine.upsert(rule(above(100)))
    assert values(engine, tick(150, symbol="ETH/USDT")) == []


def move(kind: str, figure: float, window_s: int, direction: str) -> dict[str, object]:
    key = "percent" if kind == "percent_change" else "amount"
    return {"type": kind, key: figure, "window_s": window_s, "direction": direction}


def test_percent_change_is_measured_from_the_window_low_and_high(engine: Evaluator) -> None:
    up = rule(move("percent_change", 5, 60, "up"))
    down = rule(move("percent_change", 5, 60, "down"))
    engine.upsert(up)
    engine.upsert(down)
    path = [tick(100, 0), tick(104, 10), tick(98, 20), tick(103, 30)]
    fired = [(f.rule_id, f.value) for fired in feed(engine, *path) for f in fired]
    assert fired == [(down.rule_id, -((104 - 98) / 104 * 100)), (up.rule_id, (103 - 98) / 98 * 100)]


def test_an_either_rule_reports_the_larger_move_signed(engine: Evaluator) -> None:
    engine.upsert(rule(move("absolute_move", 3, 60, "either")))
    [[], [], [firing]] = feed(engine, tick(100, 0), tick(102, 1), tick(98, 2))
    assert firing.value == -4
    assert firing.values == {"threshold": 3, "window_s": 60, "low": 98, "high": 102}


@pytest.mark.parametrize(("seconds", "fired"), [(60, []), (59.999999, [10])])
def test_the_window_excludes_a_tick_exactly_window_s_old(
    engine: Evaluator, seconds: float, fired: list[float]
) -> None:
    engine.upsert(rule(move("absolute_move", 10, 60, "up")))
    assert values(engine, tick(100, 0), tick(110, seconds)) == fired


def test_a_windowed_rule_sees_only_ticks_after_its_arming(engine: Evaluator) -> None:
    engine.evaluate(tick(100, 0))
    engine.upsert(rule(move("percent_change", 5, 60, "up")))
    assert values(engine, tick(106, 10)) == []
    assert values(engine, tick(100, 20), tick(106, 30)) == [6]
    # once the ticks before its arming have left its window, nothing changes
    assert values(engine, tick(100, 100), tick(106, 110)) == [6]


def test_a_late_tick_counts_at_its_symbol_latest_time(engine: Evaluator) -> None:
    engine.upsert(rule(move("absolute_move", 8, 60, "up")))
    # stamped at 30 s, it counts at 100 s: the tick at 0 s is out of its window
    assert values(engine, tick(100, 0), tick(105, 100), tick(110, 30)) == []


def test_a_manual_price_does_not_move_another_venue_s_window(engine: Evaluator) -> None:
    """A price posted by hand is its own market: the simulator's did not fall 1%."""
    engine.upsert(rule(move("percent_change", 0.05, 60, "either")))
    path = [
        tick(100_000, 0, venue="simulator"),
        tick(101_000, 1, venue="manual"),
        tick(100_010, 2, venue="simulator"),
    ]
    assert values(engine, *path) == []
    # the manual market moves on its own prices
    assert values(engine, tick(100_000, 3, venue="manual")) == [-(1_000 / 101_000 * 100)]


def test_a_venue_rule_and_an_any_venue_rule_read_the_same_market(engine: Evaluator) -> None:
    every = rule(move("absolute_move", 5, 60, "up"))
    only = rule(move("absolute_move", 5, 60, "up"), venue="binance")
    engine.upsert(every)
    engine.upsert(only)
    path = [tick(100, 0), tick(90, 1, venue="kraken"), tick(106, 2)]
    fired = [(f.rule_id, f.value) for fired in feed(engine, *path) for f in fired]
    assert sorted(fired) == sorted([(every.rule_id, 6), (only.rule_id, 6)])


def spike(multiple: float, window_s: int = 60) -> dict[str, object]:
    return {"type": "volume_spike", "multiple": multiple, "window_s": window_s}


def test_a_volume_spike_compares_with_the_mean_of_earlier_ticks(engine: Evaluator) -> None:
    engine.upsert(rule(spike(3)))
    path = [tick(100, 0, volume=1), tick(100, 1, volume=2), tick(100, 2, volume=4.5)]
    [[], [], [firing]] = feed(engine, *path)
    assert firing.value == 3  # 4.5 against the mean of 1 and 2, itself excluded
    assert firing.values == {
        "threshold": 3,
        "window_s": 60,
        "volume": 4.5,
        "mean_volume": 1.5,
        "ticks": 2,
    }


@pytest.mark.parametrize(
    "volumes",
    [[5.0], [0.0, 0.0, 5.0]],
    ids=["no earlier tick", "no earlier volume"],
)
def test_a_volume_spike_needs_earlier_volume(engine: Evaluator, volumes: list[float]) -> None:
    engine.upsert(rule(spike(2)))
    path = [tick(100, n, volume=volume) for n, volume in enumerate(volumes)]
    assert values(engine, *path) == []


def test_a_volume_spike_rule_sees_only_ticks_after_its_arming(engine: Evaluator) -> None:
    engine.evaluate(tick(100, 0, volume=10))
    engine.upsert(rule(spike(2)))
    # against the mean of 10 and 1 this would be no spike; after arming, only 1 counts
    assert values(engine, tick(100, 10, volume=1), tick(100, 20, volume=3)) == [3]
    # and once the tick before its arming has left its window, nothing changes
    assert values(engine, tick(100, 70, volume=1), tick(100, 80, volume=1.5)) == []
    assert values(engine, tick(100, 90, volume=4)) == [4 / ((1 + 1.5) / 2)]


def test_a_volume_spike_compares_with_its_venue_s_volume_only(engine: Evaluator) -> None:
    engine.upsert(rule(spike(3)))
    path = [
        tick(100, 0, volume=1, venue="simulator"),
        tick(100, 1, volume=100, venue="manual"),
        tick(100, 2, volume=4, venue="simulator"),
    ]
    assert values(engine, *path) == [4]


def test_a_volume_spike_forgets_ticks_older_than_its_window(engine: Evaluator) -> None:
    engine.upsert(rule(spike(2, window_s=10)))
    path = [tick(100, 0, volume=100), tick(100, 5, volume=1), tick(100, 12, volume=2)]
    assert values(engine, *path) == [2]
