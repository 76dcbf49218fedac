"""Figures as traders read them, shared by everything that puts a price or an amount in
words (an alert's text, a rule's name, the agent's answers), so one rule reads the same
in each: 1,500,000 rather than 1.5e+06, and 0.00001234 rather than 1.234e-05."""

from __future__ import annotations

import math


def figure(amount: float) -> str:
    """A price or amount as people read it: 65,012.5; 0.00001234; no exponent, no noise."""
    if amount == 0 or not math.isfinite(amount):
        return f"{amount:g}"
    magnitude = math.floor(math.log10(abs(amount)))
    decimals = 2 if magnitude >= 0 else min(12, 3 - magnitude)
    text = f"{amount:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
