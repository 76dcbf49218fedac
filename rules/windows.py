"""Rolling windows over one scope's ticks, and the moves and volume multiples they give.

Time here is integer microseconds since the epoch, never floats: "at least a cooldown
later" and "inside the window" must come out the same in the engine, in the reference
evaluator and in the aggregate (which compares datetimes), and float seconds round.

Volume sums are exact integers (each volume is a binary fraction, so it is an integer
number of 2**-scale units), and a mean or multiple is rounded once, at the end. A
running float sum that adds and subtracts for months drifts; this one cannot, and it
gives the same figure however the window was summed, which lets the reference
evaluator be checked against the engine bit for bit.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from itertools import pairwise

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_LONG_AGO = -(1 << 62)
_COMPACT_AT = 512
"""Evicted entries are dropped from the front of a list in bulk, once this many."""

Row = list[float]
"""One stored tick in a market state: [number, time, price, volume]."""


def to_micros(at: datetime) -> int:
    """Microseconds since the epoch, exactly (`at` must be aware)."""
    return (at - EPOCH) // _MICROSECOND


# -- what a window gives ----------------------------------------------------------------------


def moves(kind: str, price: float, low: float, high: float) -> tuple[float, float]:
    """The rise from the window's low and the fall from its high, in percent or amount."""
    if kind == "percent_change":
        return (price - low) / low * 100.0, (high - price) / high * 100.0
    return price - low, high - price


def reached(direction: str, rise: float, fall: float) -> float:
    """The move a rule of `direction` compares with its threshold."""
    if direction == "up":
        return rise
    if direction == "down":
        return fall
    return max(rise, fall)


def signed(direction: str, rise: float, fall: float) -> float:
    """The move as reported: positive up, negative down; "either" reports the larger."""
    if direction == "up":
        return rise
    if direction == "down":
        return -fall
    return rise if rise >= fall else -fall


def multiple(volume: float, count: int, total: int, scale: int) -> float:
    """`volume` / (total / count), where `total` is in units of 2**-scale: rounded once."""
    numerator, denominator = volume.as_integer_ratio()
    places = denominator.bit_length() - 1
    if places <= scale:
        return quotient(numerator * count << (scale - places), total)
    return quotient(numerator * count, total << (places - scale))


def quotient(numerator: int, denominator: int) -> float:
    """numerator / denominator rounded once; beyond floats, the largest float.

    (A volume against a mean of almost nothing: it is a spike for any threshold, and a
    finite figure still encodes in JSON.)
    """
    try:
        return numerator / denominator
    except OverflowError:
        return sys.float_info.max


# -- the window -------------------------------------------------------------------------------


class Extremes:
    """A monotonic queue: the stored ticks lower than every tick after them.

    Its first entry after a time is the lowest price since then, so one queue answers
    every window length. Highs are kept as negated prices. (`TickWindow.push` appends
    to it, dropping from the end every key not lower.)
    """

    __slots__ = ("head", "keys", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.keys: list[float] = []
        self.head = 0

    def evict(self, cutoff: int) -> None:
        head = self.head = bisect_right(self.times, cutoff, self.head)
        if head >= _COMPACT_AT and head * 2 >= len(self.times):
            del self.times[:head], self.keys[:head]
            self.head = 0

    def first(self, since: int) -> float:
        """The lowest key among ticks later than `since`."""
        return self.keys[bisect_right(self.times, since, self.head)]


class TickWindow:
    """One scope's recent ticks, kept as long as the longest window its rules use.

    Besides the ticks themselves (numbers, times, prices), each tick stores the exact sum
    of the volumes before it, so the volume of any window is one subtraction (and a
    tick's own volume is the difference to the next). Times must not decrease; numbers
    increase.
    """

    __slots__ = (
        "_prices",
        "before",
        "head",
        "highs",
        "lows",
        "numbers",
        "scale",
        "times",
        "total",
    )

    def __init__(self) -> None:
        self.times: list[int] = []
        self.numbers: list[int] = []
        self._prices: list[float] = []
        self.before: list[int] = []
        self.head = 0
        self.total = 0
        self.scale = 0
        self.lows = Extremes()
        self.highs = Extremes()

    def __len__(self) -> int:
        return len(self.times) - self.head

    def push(self, number: int, time: int, price: float, volume: float, cutoff: int) -> None:
        """Store a tick, and forget every tick at or before `cutoff`."""
        times = self.times
        if len(times) > self.head and times[self.head] <= cutoff:
            self._evict(cutoff)
        numerator, denominator = volume.as_integer_ratio()
        places = denominator.bit_length() - 1
        if places > self.scale:
            self._rescale(places)
        times.append(time)
        self.numbers.append(number)
        self._prices.append(price)
        self.before.append(self.total)
        self.total += numerator << (self.scale - places)
        # Both queues, written out: this runs for every tick of every windowed scope.
        lows = self.lows
        keys = lows.keys
        while len(keys) > lows.head and keys[-1] >= price:
            del keys[-1], lows.times[-1]
        keys.append(price)
        lows.times.append(time)
        highs = self.highs
        keys = highs.keys
        while len(keys) > highs.head and keys[-1] >= -price:
            del keys[-1], highs.times[-1]
        keys.append(-price)
        highs.times.append(time)

    def low(self, since: int) -> float:
        """The lowest price of the ticks later than `since`."""
        return self.lows.first(since)

    def high(self, since: int) -> float:
        """The highest price of the ticks later than `since`."""
        return -self.highs.first(since)

    def range_after(self, since: int, after: int) -> tuple[float, float]:
        """The lowest and highest price of the ticks later than `since` and numbered
        above `after`, by a plain scan (for the few rules armed inside their window)."""
        start = max(
            bisect_right(self.times, since, self.head),
            bisect_right(self.numbers, after, self.head),
        )
        prices = self._prices[start:]
        return min(prices), max(prices)

    def volume_since(self, since: int, after: int = -1) -> tuple[int, int]:
        """How many stored ticks are later than `since` (numbered above `after`), and
        their exact total volume in units of 2**-scale."""
        start = bisect_right(self.times, since, self.head)
        if after >= 0:
            start = max(start, bisect_right(self.numbers, after, self.head))
        count = len(self.times) - start
        return count, (self.total - self.before[start]) if count else 0

    def multiple(self, volume: float, count: int, total: int) -> float:
        """`volume` as a multiple of the mean of `count` ticks whose volumes sum to `total`."""
        return multiple(volume, count, total, self.scale)

    def mean(self, count: int, total: int) -> float:
        return total / (count << self.scale)

    def rows(self) -> list[Row]:
        """The stored ticks, oldest first, as JSON-able rows."""
        head = self.head
        unit = 1 << self.scale
        sums = [*self.before[head:], self.total]
        return [
            [number, time, price, (sum_after - sum_before) / unit]
            for number, time, price, (sum_before, sum_after) in zip(
                self.numbers[head:],
                self.times[head:],
                self._prices[head:],
                pairwise(sums),
                strict=True,
            )
        ]

    @classmethod
    def from_rows(cls, rows: list[Row]) -> TickWindow:
        """The window that stored these ticks (its queues are rebuilt, and equal)."""
        window = cls()
        for number, time, price, volume in rows:
            window.push(int(number), int(time), float(price), float(volume), cutoff=_LONG_AGO)
        return window

    def _evict(self, cutoff: int) -> None:
        head = self.head = bisect_right(self.times, cutoff, self.head)
        if head >= _COMPACT_AT and head * 2 >= len(self.times):
            for stored in (self.times, self.numbers, self._prices, self.before):
                del stored[:head]
            self.head = 0
        self.lows.evict(cutoff)
        self.highs.evict(cutoff)

    def _rescale(self, places: int) -> None:
        """Count in finer units from now on: every stored sum is shifted to match."""
        shift = places - self.scale
        self.total <<= shift
        self.before = [before << shift for before in self.before]
        self.scale = places
