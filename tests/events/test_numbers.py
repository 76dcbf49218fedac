"""Figures as traders read them: the same in an alert's text, a rule's name and a reply."""

from __future__ import annotations

import pytest

from events.numbers import figure


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (65_000, "65,000"),
        (65_012.5, "65,012.5"),
        (1_234_567.891, "1,234,567.89"),
        (0.5, "0.5"),
        (0.00001234, "0.00001234"),
        (-42.1, "-42.1"),
        (0, "0"),
        (1_500_000, "1,500,000"),  # "hits 1.5m", never 1.5e+06
    ],
)
def test_numbers_read_as_people_write_them(amount: float, text: str) -> None:
    assert figure(amount) == text
