"""Random scripts for the property tests: rules coming and going, and price paths.

A script is a list of steps: a tick, a rule upserted (new, changed, paused, resumed...),
a rule removed, a firing learnt from elsewhere, or a restart of the engine under test
from its snapshot. Prices walk on a half-unit grid near 100 and thresholds are
integers, so prices land exactly on thresholds often; windows are seconds long and
ticks seconds apart, so windows fill, slide and empty; some ticks arrive stamped
earlier than the one before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from rules.firing import Observation, RuleState
from tests.rules.support import at, spec

SYMBOLS = ("AAA/USD", "BBB/USD")
VENUES = ("x", "y")
SLOTS = 8
"""Rule ids a script uses: an upsert of a used slot changes that rule."""


@dataclass(frozen=True)
class Tick:
    symbol: str
    venue: str
    step: float
    volume: float
    advance_us: int


@dataclass(frozen=True)
class Upsert:
    slot: int
    spec: dict[str, Any]
    status: str
    last_s: float | None


@dataclass(frozen=True)
class Remove:
    slot: int


@dataclass(frozen=True)
class Record:
    slot: int
    back_s: float
    """How long before the latest tick the firing happened (negative: after it)."""


@dataclass(frozen=True)
class Restart:
    pass


Step = Tick | Upsert | Remove | Record | Restart

_directions = st.sampled_from(["up", "down", "either"])
_windows = st.sampled_from([1, 3, 10, 30])
conditions = st.one_of(
    st.builds(
        lambda kind, threshold: {"type": kind, "threshold": threshold},
        st.sampled_from(["above", "below", "crosses_up", "crosses_down"]),
        st.integers(96, 104),
    ),
    st.builds(
        lambda percent, window_s, direction: {
            "type": "percent_change",
            "percent": percent,
            "window_s": window_s,
            "direction": direction,
        },
        st.sampled_from([0.5, 1, 2, 4]),
        _windows,
        _directions,
    ),
    st.builds(
        lambda amount, window_s, direction: {
            "type": "absolute_move",
            "amount": amount,
            "window_s": window_s,
            "direction": direction,
        },
        st.sampled_from([0.5, 1, 2, 4]),
        _windows,
        _directions,
    ),
    st.builds(
        lambda multiple, window_s: {
            "type": "volume_spike",
            "multiple": multiple,
            "window_s": window_s,
        },
        st.sampled_from([1.5, 2, 3]),
        _windows,
    ),
)
frequencies = st.sampled_from(
    [
        {"kind": "once"},
        {"kind": "every_time", "cooldown_s": 0},
        {"kind": "every_time", "cooldown_s": 2},
        {"kind": "every_time", "cooldown_s": 20},
        {"kind": "at_most_once_per", "interval_s": 2},
        {"kind": "at_most_once_per", "interval_s": 20},
    ]
)
specs = st.fixed_dictionaries(
    {
        "condition": conditions,
        "symbol": st.sampled_from(SYMBOLS),
        "venue": st.sampled_from([None, None, *VENUES]),
        "frequency": frequencies,
        "expires_s": st.one_of(st.none(), st.integers(1, 120)),
    }
)
ticks = st.builds(
    Tick,
    symbol=st.sampled_from(SYMBOLS),
    venue=st.sampled_from(VENUES),
    step=st.sampled_from([0.5, -1.0, 1.0, -0.5, 2.0, -2.0, 0.0]),
    volume=st.sampled_from([1.0, 3.0, 0.1, 7.5, 0.0, 2.0, 1e-9]),
    advance_us=st.sampled_from(
        [1_000_000, 500_000, 3_000_000, 0, 1, 10_000_000, 40_000_000, -2_000_000]
    ),
)
upserts = st.builds(
    Upsert,
    slot=st.integers(0, SLOTS - 1),
    spec=specs,
    status=st.sampled_from(["active"] * 6 + ["paused", "completed", "expired"]),
    last_s=st.one_of(st.none(), st.none(), st.floats(-30, 30).map(lambda s: round(s, 3))),
)
removes = st.builds(Remove, slot=st.integers(0, SLOTS - 1))
records = st.builds(
    Record, slot=st.integers(0, SLOTS - 1), back_s=st.sampled_from([-1.0, 0.0, 1.0, 5.0])
)


@st.composite
def _step(draw: st.DrawFn, *, restarts: bool) -> Step:
    """Mostly ticks: three in four steps."""
    roll = draw(st.integers(0, 99))
    if roll < 75:
        return draw(ticks)
    if roll < 87:
        return draw(upserts)
    if roll < 92:
        return draw(removes)
    if roll < 97 or not restarts:
        return draw(records)
    return Restart()


def scripts(*, steps: int, restarts: bool = False) -> st.SearchStrategy[list[Step]]:
    """Rules first (so most ticks meet some), then mostly ticks with the rest mixed in."""
    return st.builds(
        lambda first, rest: [*first, *rest],
        st.lists(upserts, min_size=1, max_size=SLOTS),
        st.lists(_step(restarts=restarts), min_size=steps // 2, max_size=steps),
    )


def rule_id(slot: int) -> UUID:
    return UUID(int=slot + 1)


def rule_state(step: Upsert) -> RuleState:
    fields = step.spec
    expires = None if fields["expires_s"] is None else at(fields["expires_s"])
    return RuleState(
        rule_id=rule_id(step.slot),
        owner_id=UUID(int=99),
        spec=spec(
            fields["condition"],
            symbol=fields["symbol"],
            venue=fields["venue"],
            frequency=fields["frequency"],
            expires_at=expires,
        ),
        status=step.status,
        last_triggered_at=None if step.last_s is None else at(step.last_s),
    )


class Market:
    """The prices and the clock a script's ticks move."""

    def __init__(self) -> None:
        self.prices = dict.fromkeys(SYMBOLS, 100.0)
        self.micros = 0
        self.count = 0

    def observe(self, step: Tick) -> Observation:
        price = self.prices[step.symbol] + step.step
        if abs(price - 100) > 6:  # turn back: thresholds are near 100
            price -= 2 * step.step
        self.prices[step.symbol] = price
        self.micros += step.advance_us
        self.count += 1
        return Observation(
            symbol=step.symbol,
            venue=step.venue,
            price=price,
            volume=step.volume,
            at=self.now(),
            event_id=UUID(int=10_000 + self.count),
        )

    def now(self) -> datetime:
        return at(self.micros / 1_000_000)
