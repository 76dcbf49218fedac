"""Rolling windows give what a brute-force look at the same ticks gives, exactly."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.windows import TickWindow, to_micros

Seen = tuple[int, int, float, float]
"""number, time, price, volume"""


def test_times_are_exact_microseconds() -> None:
    last = datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert to_micros(last + timedelta(seconds=60)) - to_micros(last) == 60_000_000
    assert to_micros(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == 1


def fill(rows: list[Seen], window_us: int) -> tuple[TickWindow, list[Seen]]:
    """Push the ticks, forgetting those older than `window_us`; and what should remain."""
    window = TickWindow()
    for number, time, price, volume in rows:
        window.push(number, time, price, volume, cutoff=time - window_us)
    latest = rows[-1][1]
    return window, [seen for seen in rows if seen[1] > latest - window_us]


def assert_agrees(window: TickWindow, kept: list[Seen], since: int, after: int) -> None:
    chosen = [seen for seen in kept if seen[1] > since and seen[0] > after]
    if chosen:
        prices = [seen[2] for seen in chosen]
        assert window.range_after(since, after) == (min(prices), max(prices))
        if after < 0:
            assert (window.low(since), window.high(since)) == (min(prices), max(prices))
    count, total = window.volume_since(since, after)
    exact = sum((Fraction(seen[3]) for seen in chosen), Fraction(0))
    assert count == len(chosen)
    assert Fraction(total, 2**window.scale) == exact
    if exact:
        assert window.mean(count, total) == float(exact / count)
        for volume in (0.0, 1.0, 0.1, 3e-12, 7.25e9, 1.5e308):
            ratio = Fraction(volume) * count / exact
            expected = float(ratio) if ratio <= sys.float_info.max else sys.float_info.max
            assert window.multiple(volume, count, total) == expected


volumes = st.one_of(
    st.sampled_from([0.0, 1.0, 0.1, 2.5]),
    st.floats(0, 1e12, allow_nan=False, allow_infinity=False),
)
paths = st.lists(
    st.tuples(st.integers(0, 3_000_000), st.integers(1, 200).map(lambda n: n / 2), volumes),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(paths, st.integers(1, 10_000_000), st.integers(0, 12_000_000), st.integers(-1, 60))
def test_a_window_agrees_with_brute_force(
    path: list[tuple[int, float, float]], window_us: int, back_us: int, after: int
) -> None:
    rows: list[Seen] = []
    time = 1_700_000_000_000_000
    for number, (advance, price, volume) in enumerate(path, start=1):
        time += advance
        rows.append((number, time, price, volume))
    window, kept = fill(rows, window_us)
    since = rows[-1][1] - min(back_us, window_us)
    assert_agrees(window, kept, since, after)
    restored = TickWindow.from_rows(window.rows())
    assert restored.rows() == [list(seen) for seen in kept]
    assert_agrees(restored, kept, since, after)


def test_a_long_window_forgets_in_bulk_and_stays_exact() -> None:
    rng = random.Random(5)
    rows: list[Seen] = []
    time = 0
    for number in range(1, 5001):
        time += rng.randrange(0, 2_000_000)
        rows.append((number, time, rng.uniform(1, 2), rng.choice([1.0, 0.1, 1e-9, 123.456])))
    window, kept = fill(rows, 300_000_000)
    assert len(window) == len(kept) < 1000
    for back in (1_000_000, 60_000_000, 300_000_000):
        assert_agrees(window, kept, rows[-1][1] - back, -1)


def test_a_rising_market_keeps_every_low_until_it_leaves() -> None:
    """Every tick is a later low than the ones before it leave: the queue sheds in bulk."""
    rows: list[Seen] = [
        (number, number * 1_000_000, float(number), 1.0) for number in range(1, 3001)
    ]
    window, kept = fill(rows, 600_000_000)
    assert len(window) == len(kept) == 600
    assert_agrees(window, kept, rows[-1][1] - 600_000_000, -1)
    assert_agrees(window, kept, rows[-1][1] - 5_000_000, -1)
