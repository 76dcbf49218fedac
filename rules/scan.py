"""One tick read against one scope's index and its venue's market: the rules it fires.

This is the engine's hot path, so it is written for CPython: one call per scope and
kind of list rather than per rule or per group, window internals read into locals once,
a market's window low and high kept per window length while no tick can have changed
them, and a floor comparison (the smallest threshold of a group, or of a list) before
any list is touched. The arithmetic is that of `windows.moves` / `windows.multiple`,
which the reference evaluator uses, so both come to the same figures bit for bit.
"""

from __future__ import annotations

from bisect import bisect_right

from rules.firing import Observation
from rules.index import (
    NOTHING,
    Extent,
    IndexedRule,
    Market,
    MoveGroup,
    Scope,
    Sorted,
    VolumeGroup,
)
from rules.windows import TickWindow, moves, multiple, quotient, reached, signed

Hit = tuple[IndexedRule, float, dict[str, float]]
"""A rule whose condition holds and whose frequency lets it fire: its value and figures."""


class Pass:
    """One tick on its way through the scopes it concerns, and the rules it fired."""

    __slots__ = ("hits", "now", "number", "t", "tick")

    def __init__(self, tick: Observation, t: int, now: int, number: int) -> None:
        self.tick = tick
        self.t = t
        """The tick's own time: what cooldowns compare."""
        self.now = now
        """The symbol's clock: what windows are measured back from."""
        self.number = number
        self.hits: list[Hit] = []


def thresholds(scope: Scope, market: Market, this: Pass) -> None:
    """above, below, and the crossings between the market's previous price and this one."""
    price = this.tick.price
    t = this.t
    hits = this.hits
    # Each list is looked into only when its lowest (highest) key lets a rule match.
    keys = scope.above.keys
    if keys and keys[0] < price:
        for rule in scope.above.under(price):
            if t >= rule.quiet_at:
                hits.append((rule, price, {"threshold": rule.key}))
    keys = scope.below.keys
    if keys and keys[-1] > price:
        for rule in scope.below.over(price):
            if t >= rule.quiet_at:
                hits.append((rule, price, {"threshold": rule.key}))
    previous = market.previous
    if previous is not None and previous != price:
        _crossings(scope, previous, market.previous_number, this)


def _crossings(scope: Scope, previous: float, number: int, this: Pass) -> None:
    """Crossing rules between the previous price and this one, armed before the previous."""
    price = this.tick.price
    if price > previous:
        keys = scope.cross_up.keys
        if not keys or keys[-1] < previous or keys[0] >= price:
            return
        crossed = scope.cross_up.from_to(previous, price)
    else:
        keys = scope.cross_down.keys
        if not keys or keys[0] > previous or keys[-1] <= price:
            return
        crossed = scope.cross_down.over_up_to(price, previous)
    t = this.t
    for rule in crossed:
        if rule.armed < number and t >= rule.quiet_at:
            this.hits.append((rule, price, {"threshold": rule.key, "previous": previous}))


def spikes(scope: Scope, window: TickWindow, this: Pass) -> None:
    """Volume-spike rules; call before the tick enters the window (it is not in its mean)."""
    times = window.times
    before = window.before
    head = window.head
    length = len(times)
    now = this.now
    volume = this.tick.volume
    # The volume in the window's units, exactly, once (-1: it is finer than them).
    numerator, denominator = volume.as_integer_ratio()
    places = denominator.bit_length() - 1
    units = numerator << (window.scale - places) if places <= window.scale else -1
    for group in scope.volumes.values():
        if not group.indexed:
            continue
        start = bisect_right(times, now - group.window, head)
        count = length - start
        if not count:
            continue
        total = window.total - before[start]
        if not total:
            continue
        if units < 0:
            figure = multiple(volume, count, total, window.scale)
        elif units * count <= total:
            continue  # at most the mean: a multiple of at most 1, and every threshold is > 1
        else:
            figure = quotient(units * count, total)  # = `multiple`, rounded once
        if figure >= group.spikes.keys[0]:
            for rule in group.spikes.at_most(figure):
                if this.t >= rule.quiet_at:
                    values = spike_values(rule, window, volume, count, total)
                    this.hits.append((rule, figure, values))


def warm_spikes(scope: Scope, window: TickWindow, this: Pass) -> None:
    """Warming volume-spike rules, each alone over the ticks after its arming."""
    for group in scope.volumes.values():
        if group.warming:
            _warm_spikes(group, window, this)


def _warm_spikes(group: VolumeGroup, window: TickWindow, this: Pass) -> None:
    since = this.now - group.window
    volume = this.tick.volume
    for rule in group.warming:
        count, total = window.volume_since(since, rule.armed)
        if not total:
            continue
        figure = window.multiple(volume, count, total)
        if figure >= rule.key and this.t >= rule.quiet_at:
            this.hits.append((rule, figure, spike_values(rule, window, volume, count, total)))


def price_moves(scope: Scope, market: Market, window: TickWindow, this: Pass) -> None:
    """Percent-change and absolute-move rules; call after the tick entered the window."""
    lows = window.lows
    highs = window.highs
    low_times, low_keys, low_head = lows.times, lows.keys, lows.head
    high_times, high_keys, high_head = highs.times, highs.keys, highs.head
    now = this.now
    price = this.tick.price
    number = this.number
    before = market.previous_number
    extents = market.extents
    for group in scope.moves.values():
        if not group.indexed:
            continue
        extent = extents.get(group.window)
        if extent is None:
            extent = extents[group.window] = Extent()
        low = extent.low
        high = extent.high
        seen = extent.number
        if seen not in (number, before) or now >= extent.known_until or not low <= price <= high:
            since = now - group.window  # TickWindow.low(since) and .high(since), inlined
            first_low = bisect_right(low_times, since, low_head)
            first_high = bisect_right(high_times, since, high_head)
            low = extent.low = low_keys[first_low]
            high = extent.high = -high_keys[first_high]
            # until the older of the two leaves the window (a price outside them
            # makes a new one, checked above)
            extent.known_until = min(low_times[first_low], high_times[first_high]) + group.window
        extent.number = number
        if low == high:
            continue  # nothing moved: no positive threshold is reached
        # The arithmetic of `windows.moves`, inlined: this runs for every group on
        # every tick (the property tests check it bit for bit against the reference).
        floor = group.percent_floor
        if floor != NOTHING:
            rise = (price - low) / low * 100.0
            fall = (high - price) / high * 100.0
            if rise >= floor or fall >= floor:
                _reach(group.percent, this, rise=rise, fall=fall, low=low, high=high)
        floor = group.amount_floor
        if floor != NOTHING:
            rise = price - low
            fall = high - price
            if rise >= floor or fall >= floor:
                _reach(group.amount, this, rise=rise, fall=fall, low=low, high=high)


def _reach(
    lists: tuple[Sorted, Sorted, Sorted],
    this: Pass,
    *,
    rise: float,
    fall: float,
    low: float,
    high: float,
) -> None:
    up, down, either = lists
    for rules, figure in ((up, rise), (down, fall), (either, max(rise, fall))):
        keys = rules.keys
        if keys and keys[0] <= figure:
            for rule in rules.at_most(figure):
                if this.t >= rule.quiet_at:
                    value = signed(rule.direction, rise, fall)
                    this.hits.append((rule, value, move_values(rule, low, high)))


def warm_moves(scope: Scope, window: TickWindow, this: Pass) -> None:
    """Warming move rules, each alone over the ticks after its arming."""
    for group in scope.moves.values():
        if group.warming:
            _warm_moves(group, window, this)


def _warm_moves(group: MoveGroup, window: TickWindow, this: Pass) -> None:
    since = this.now - group.window
    price = this.tick.price
    for rule in group.warming:
        low, high = window.range_after(since, rule.armed)
        rise, fall = moves(rule.kind, price, low, high)
        if reached(rule.direction, rise, fall) >= rule.key and this.t >= rule.quiet_at:
            value = signed(rule.direction, rise, fall)
            this.hits.append((rule, value, move_values(rule, low, high)))


def spike_values(
    rule: IndexedRule, window: TickWindow, volume: float, count: int, total: int
) -> dict[str, float]:
    return {
        "threshold": rule.key,
        "window_s": float(rule.window_s),
        "volume": volume,
        "mean_volume": window.mean(count, total),
        "ticks": float(count),
    }


def move_values(rule: IndexedRule, low: float, high: float) -> dict[str, float]:
    return {"threshold": rule.key, "window_s": float(rule.window_s), "low": low, "high": high}
