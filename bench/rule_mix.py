"""The rule mix and market the rule benchmarks share: symbols, prices, conditions.

Rules are trader-like and seeded: every condition kind, thresholds near each symbol's
price, windows from a minute to an hour, frequencies once / every time with a cooldown /
at most once per interval.
"""

from __future__ import annotations

import random
from typing import Any

SYMBOLS = 500
VENUES = ("binance", "coinbase")


def symbol_name(number: int) -> str:
    return f"S{number:03d}/USDT"


def start_prices(rng: random.Random) -> list[float]:
    """Prices from a few cents to tens of thousands, like a market's symbols."""
    return [round(10 ** rng.uniform(-1, 4.5), 4) for _ in range(SYMBOLS)]


def condition(rng: random.Random, price: float) -> dict[str, Any]:
    kind = rng.choices(
        ("above", "below", "crosses_up", "crosses_down", "percent", "amount", "volume"),
        weights=(15, 15, 15, 15, 15, 10, 15),
    )[0]
    direction = rng.choice(("up", "down", "either"))
    window_s = rng.choice((60, 300, 900, 3600))
    if kind == "above":
        return {"type": "above", "threshold": price * (1 + rng.uniform(0.002, 0.1))}
    if kind == "below":
        return {"type": "below", "threshold": price * (1 - rng.uniform(0.002, 0.1))}
    if kind in ("crosses_up", "crosses_down"):
        return {"type": kind, "threshold": price * (1 + rng.uniform(-0.05, 0.05))}
    if kind == "percent":
        percent = round(rng.uniform(0.2, 5), 1)
        return {
            "type": "percent_change",
            "percent": percent,
            "window_s": window_s,
            "direction": direction,
        }
    if kind == "amount":
        amount = price * rng.uniform(0.002, 0.05)
        return {
            "type": "absolute_move",
            "amount": amount,
            "window_s": window_s,
            "direction": direction,
        }
    return {
        "type": "volume_spike",
        "multiple": round(rng.uniform(2, 10), 1),
        "window_s": rng.choice((300, 3600)),
    }


def frequency(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.4:
        return {"kind": "once"}
    if roll < 0.8:
        return {"kind": "every_time", "cooldown_s": rng.choice((60, 300, 900, 3600))}
    return {"kind": "at_most_once_per", "interval_s": rng.choice((300, 3600))}
