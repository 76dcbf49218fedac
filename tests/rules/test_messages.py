"""What a firing says: default sentences, the trader's template, and numbers people read."""

from __future__ import annotations

from typing import Any

import pytest

from rules.firing import duration
from tests.rules.support import Evaluator, above, crosses_up, feed, rule, tick


def message(engine: Evaluator, condition: dict[str, Any], *prices: float, **fields: Any) -> str:
    """The message of the last firing when `prices` go by, one second apart."""
    engine.upsert(rule(condition, **fields))
    fired = [
        f for fired in feed(engine, *(tick(p, n) for n, p in enumerate(prices))) for f in fired
    ]
    return fired[-1].message


@pytest.mark.parametrize(
    ("condition", "prices", "expected"),
    [
        (
            crosses_up(65_000),
            [64_990, 65_012.5],
            "BTC/USDT on binance crossed above 65,000 (now 65,012.5)",
        ),
        (
            {"type": "crosses_down", "threshold": 0.5},
            [0.51, 0.00001234],
            "BTC/USDT on binance crossed below 0.5 (now 0.00001234)",
        ),
        (above(100), [101.256], "BTC/USDT on binance is above 100 (now 101.26)"),
        ({"type": "below", "threshold": 100}, [99], "BTC/USDT on binance is below 100 (now 99)"),
        (
            {"type": "percent_change", "percent": 5, "window_s": 3600, "direction": "down"},
            [100, 94],
            "BTC/USDT on binance fell 6.00% within 1h (now 94)",
        ),
        (
            {"type": "absolute_move", "amount": 1000, "window_s": 5400, "direction": "up"},
            [60_000, 61_250],
            "BTC/USDT on binance rose by 1,250 within 1h30m (now 61,250)",
        ),
    ],
)
def test_default_messages(
    engine: Evaluator, condition: dict[str, Any], prices: list[float], expected: str
) -> None:
    assert message(engine, condition, *prices) == expected


def test_a_volume_spike_message(engine: Evaluator) -> None:
    engine.upsert(rule({"type": "volume_spike", "multiple": 3, "window_s": 300}))
    [[], [firing]] = feed(engine, tick(100, 0, volume=2), tick(100, 1, volume=7))
    assert firing.message == "BTC/USDT on binance volume at 3.5x its 5m average (now 100)"


def test_a_venue_rule_names_its_venue(engine: Evaluator) -> None:
    said = message(engine, above(100), 101, venue="binance")
    assert said == "BTC/USDT on binance is above 100 (now 101)"


def test_a_rule_on_any_venue_names_the_venue_whose_market_moved(engine: Evaluator) -> None:
    """Issue 12: a price posted by hand moved the demo trader's rule, and its alert read
    as if the market had: it says whose prices moved."""
    engine.upsert(rule({"type": "percent_change", "percent": 1, "window_s": 60}))
    path = [tick(99_000, 0, venue="manual"), tick(101_000, 1, venue="manual")]
    [[], [firing]] = feed(engine, *path)
    assert firing.message == "BTC/USDT on manual rose 2.02% within 1m (now 101,000)"


def test_the_trader_template_is_filled_in(engine: Evaluator) -> None:
    template = "{rule}: {symbol} {condition} {threshold} at {price:,.1f} ({value}) on {target}"
    said = message(engine, above(100), 1234.56, template=template, name="big", venue="binance")
    assert said == "big: BTC/USDT above 100.0 at 1,234.6 (1234.56) on BTC/USDT on binance"


def test_a_template_without_a_name_names_the_rule_by_id(engine: Evaluator) -> None:
    held = rule(above(100), template="{rule}")
    engine.upsert(held)
    [[firing]] = feed(engine, tick(101))
    assert firing.message == str(held.rule_id)


@pytest.mark.parametrize(
    "template",
    ["{price:d}", "{}", "{rule:.2f}", "{price:>20000000}", "{rule:.99999999}{price:>64}" * 20],
)
def test_a_template_that_fails_falls_back_to_the_default(engine: Evaluator, template: str) -> None:
    """Also a template recorded before templates were bounded (issue 13: a 20 MB alert)."""
    assert (
        message(engine, above(100), 101, template=template)
        == "BTC/USDT on binance is above 100 (now 101)"
    )


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45s"), (900, "15m"), (5400, "1h30m"), (172_800, "2d"), (0, "0s")]
)
def test_durations(seconds: int, text: str) -> None:
    assert duration(seconds) == text
