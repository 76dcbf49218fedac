"""Rule message templates: known fields, bounded widths and precisions, bounded length."""

from __future__ import annotations

import pytest

from aggregates.message_template import MAX_RENDERED, render, template_problem

FIELDS = {
    "symbol": "BTC/USDT",
    "price": 65_012.5,
    "threshold": 65_000.0,
    "condition": "crosses_up",
    "rule": "breakout",
    "value": 65_012.5,
    "target": "BTC/USDT",
}


@pytest.mark.parametrize(
    "template",
    [
        "{symbol} moved {value:+.2f}% in a minute (now {price:,.2f})",
        "{rule}: {symbol} {condition} {threshold} at {price:,.1f} ({value}) on {target}",
        "{price:>64,.12f} {symbol!r:^30}",
        "plain words, no fields",
        "{price:d}",  # valid syntax; fails on a float at run time, and the default is used
    ],
)
def test_reasonable_templates_pass(template: str) -> None:
    assert template_problem(template) is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{price:>20000000}", "{price}: a width of at most 64, not 20000000"),
        ("{symbol:_<65}", "{symbol}: a width of at most 64, not 65"),
        ("{price:.13f}", "{price}: a precision of at most 12, not 13"),
        ("{price:>{value}}", "{price}: a format spec cannot contain fields"),
        ("{price:what}", "{price:what}: not a format spec"),
        ("{price.real}", "unknown fields 'price.real'"),
        ("{symbol[0]}", "unknown fields 'symbol[0]'"),
        ("{}", "unknown fields {}"),
        ("{rule!x}", "{rule!x}: a conversion is !r, !s or !a"),
        ("{symbol", "malformed template"),
        ("{condition:>64}" * 16, "renders up to 1024 characters; a message holds at most 1000"),
        ("{price:,.12f}" * 40, "a message holds at most 1000"),
    ],
)
def test_unbounded_templates_are_refused_saying_why(template: str, problem: str) -> None:
    found = template_problem(template)
    assert found is not None
    assert problem in found


def test_rendering_fills_in_and_never_exceeds_the_bound() -> None:
    assert render("{symbol} at {price:,.2f}", FIELDS) == "BTC/USDT at 65,012.50"
    huge = render(
        "{price:,.2f} {value:,.2f} {threshold:,.2f}",
        {**FIELDS, "price": 1e300, "value": 1e300, "threshold": 1e300},
    )
    assert huge is not None
    assert len(huge) == MAX_RENDERED
    assert huge.endswith("…")


@pytest.mark.parametrize("template", ["{price:>20000000}", "{price:d}", "{nope}"])
def test_a_template_that_cannot_render_within_bounds_gives_way(template: str) -> None:
    assert render(template, FIELDS) is None
