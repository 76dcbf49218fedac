"""The engine's index: per scope, rules sorted by threshold, and windowed rules by window;
per market, the prices they are compared with.

A scope is one symbol on any venue, or one symbol on one venue: it holds rules. Within
it, every list is sorted by the figure its rules compare (a price, a percent, an
amount, a multiple), so the rules a tick fires are a slice found by bisection. Rules
that cannot fire now (waiting out a cooldown, paused, completed, expired) are not in
any list.

A market is one symbol on one venue: it holds prices (the previous one, and a window
of recent ticks). A tick of venue v is compared by the rules of the symbol's any-venue
scope and of its v scope, both against market v: venues never share a previous price
or a window, so a price posted by hand (venue ``manual``) cannot move another venue's
market.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from aggregates.rule_spec import AtMostOncePer, EveryTime, SymbolTarget
from rules.firing import RuleState, threshold_of
from rules.windows import TickWindow, to_micros

FOREVER = 1 << 62
"""A time (microseconds) after every tick: the expiry of a rule that never expires."""
LONG_AGO = -(1 << 62)
"""A time before every tick: when a rule that never fired may fire again."""
NOT_WARMING = LONG_AGO
"""The `warm_at` of a rule that sees its whole window already."""

NOTHING = float("inf")
"""The floor of a group without rules: no figure reaches it."""

MOVES = ("percent_change", "absolute_move")
DIRECTIONS = ("up", "down", "either")

ScopeKey = tuple[str, str | None]


class IndexedRule:
    """A rule as the index holds it: its state, and the figures the hot path compares.

    Where it is: `scope` while it is evaluated (else None), and in it `slot` (a sorted
    list, a group's warming list, or None while it waits in the cooldown heap).
    `armed` is the number of ticks the engine had seen when the rule was armed: it only
    sees later ones. `warm_at`, for a windowed rule, is the time from which every tick in
    its window is a later one; until then it is evaluated alone, over its own ticks.
    """

    __slots__ = (
        "armed",
        "direction",
        "expires_at",
        "group",
        "join_gen",
        "key",
        "kind",
        "pause",
        "place_gen",
        "quiet_at",
        "scope",
        "scope_key",
        "slot",
        "state",
        "warm_at",
        "window",
        "window_s",
    )

    def __init__(self, state: RuleState) -> None:
        self.scope: Scope | None = None
        self.slot: Sorted | list[IndexedRule] | None = None
        self.group: MoveGroup | VolumeGroup | None = None
        self.join_gen = 0
        self.place_gen = 0
        self.armed = 0
        self.warm_at = NOT_WARMING
        self.refresh(state)

    def refresh(self, state: RuleState) -> None:
        """Take a new state: re-read every figure the hot path uses from the spec."""
        spec = state.spec
        target = spec.target
        assert isinstance(target, SymbolTarget), "only price rules are indexed"
        condition = spec.condition
        self.state = state
        self.kind: str = condition.type
        self.key = threshold_of(condition)
        self.direction: str = getattr(condition, "direction", "")
        self.window_s: int = getattr(condition, "window_s", 0)
        self.window = self.window_s * 1_000_000
        self.scope_key: ScopeKey = (target.symbol, target.venue)
        frequency = spec.frequency
        if isinstance(frequency, EveryTime):
            self.pause = frequency.cooldown_s * 1_000_000
        elif isinstance(frequency, AtMostOncePer):
            self.pause = frequency.interval_s * 1_000_000
        else:
            self.pause = 0
        last = state.last_triggered_at
        once = not isinstance(frequency, EveryTime | AtMostOncePer)
        self.quiet_at = LONG_AGO if last is None or once else to_micros(last) + self.pause
        expires = spec.expires_at
        self.expires_at = FOREVER if expires is None else to_micros(expires)


class Sorted:
    """Rules sorted by their key; equal keys keep the order they were added in."""

    __slots__ = ("keys", "rules")

    def __init__(self) -> None:
        self.keys: list[float] = []
        self.rules: list[IndexedRule] = []

    def add(self, rule: IndexedRule) -> None:
        index = bisect_right(self.keys, rule.key)
        self.keys.insert(index, rule.key)
        self.rules.insert(index, rule)

    def discard(self, rule: IndexedRule) -> None:
        index = bisect_left(self.keys, rule.key)
        rules = self.rules
        while rules[index] is not rule:
            index += 1
        del self.keys[index], rules[index]

    def at_most(self, figure: float) -> list[IndexedRule]:
        """Rules whose key is <= figure."""
        return self.rules[: bisect_right(self.keys, figure)]

    def under(self, figure: float) -> list[IndexedRule]:
        """Rules whose key is < figure."""
        return self.rules[: bisect_left(self.keys, figure)]

    def over(self, figure: float) -> list[IndexedRule]:
        """Rules whose key is > figure."""
        return self.rules[bisect_right(self.keys, figure) :]

    def from_to(self, low: float, high: float) -> list[IndexedRule]:
        """Rules whose key is >= low and < high."""
        keys = self.keys
        return self.rules[bisect_left(keys, low) : bisect_left(keys, high)]

    def over_up_to(self, low: float, high: float) -> list[IndexedRule]:
        """Rules whose key is > low and <= high."""
        keys = self.keys
        return self.rules[bisect_right(keys, low) : bisect_right(keys, high)]


def _three() -> tuple[Sorted, Sorted, Sorted]:
    return Sorted(), Sorted(), Sorted()


def _floor(lists: tuple[Sorted, Sorted, Sorted]) -> float:
    return min((rules.keys[0] for rules in lists if rules.keys), default=NOTHING)


@dataclass(slots=True, eq=False)
class MoveGroup:
    """Percent-change and absolute-move rules of one scope with one window length.

    `percent` and `amount` each hold three lists, by direction (up, down, either); a
    floor is the smallest threshold in them, so a tick whose rise and fall both stay
    under it (most ticks) fires nothing and touches no list.
    """

    window_s: int
    window: int
    members: int = 0
    indexed: int = 0
    percent: tuple[Sorted, Sorted, Sorted] = field(default_factory=_three)
    amount: tuple[Sorted, Sorted, Sorted] = field(default_factory=_three)
    percent_floor: float = NOTHING
    amount_floor: float = NOTHING
    warming: list[IndexedRule] = field(default_factory=list)

    def added(self, rule: IndexedRule) -> None:
        if rule.kind == "percent_change":
            self.percent_floor = min(self.percent_floor, rule.key)
        else:
            self.amount_floor = min(self.amount_floor, rule.key)

    def removed(self, rule: IndexedRule) -> None:
        if rule.kind == "percent_change" and rule.key == self.percent_floor:
            self.percent_floor = _floor(self.percent)
        elif rule.kind == "absolute_move" and rule.key == self.amount_floor:
            self.amount_floor = _floor(self.amount)

    def slot(self, rule: IndexedRule) -> Sorted:
        lists = self.percent if rule.kind == "percent_change" else self.amount
        return lists[DIRECTIONS.index(rule.direction)]


@dataclass(slots=True, eq=False)
class VolumeGroup:
    """Volume-spike rules of one scope with one window length."""

    window_s: int
    window: int
    members: int = 0
    indexed: int = 0
    spikes: Sorted = field(default_factory=Sorted)
    warming: list[IndexedRule] = field(default_factory=list)

    def slot(self, rule: IndexedRule) -> Sorted:
        return self.spikes

    def added(self, rule: IndexedRule) -> None:
        """Nothing to keep: the spikes list's first key is its floor."""

    def removed(self, rule: IndexedRule) -> None:
        """Nothing to keep: the spikes list's first key is its floor."""


@dataclass(slots=True, eq=False)
class Extent:
    """The lowest and highest price of a market's ticks over one window length.

    Kept while no tick can have changed them: they were measured at tick `number` (the
    market's latest or the one before it: a tick that went by unmeasured may have left
    them), no price since fell outside them, and the older of the two stays in the
    window until `known_until`. Move groups of one length in the any-venue and the
    venue scope share it: they measure the same ticks.
    """

    low: float = 0.0
    high: float = 0.0
    known_until: int = LONG_AGO
    number: int = -1


@dataclass(slots=True, eq=False)
class Market:
    """One symbol on one venue: its previous price, and its recent ticks.

    The window (`TickWindow`) exists while a scope reading the market (the symbol's
    any-venue scope, or this venue's) has windowed rules, and keeps ticks for the
    longest window among them.
    """

    previous: float | None = None
    previous_number: int = 0
    window: TickWindow | None = None
    extents: dict[int, Extent] = field(default_factory=dict)
    """By window length (microseconds)."""


@dataclass(slots=True, eq=False)
class Scope:
    """The rules of one scope: its lists and groups, and the longest window among them."""

    above: Sorted = field(default_factory=Sorted)
    below: Sorted = field(default_factory=Sorted)
    cross_up: Sorted = field(default_factory=Sorted)
    cross_down: Sorted = field(default_factory=Sorted)
    moves: dict[int, MoveGroup] = field(default_factory=dict)
    volumes: dict[int, VolumeGroup] = field(default_factory=dict)
    longest: int = 0
    members: int = 0
    warming: int = 0
    """How many of its rules are warming (evaluated alone, see `IndexedRule`)."""

    def place(self, rule: IndexedRule) -> None:
        """Put an evaluated rule that may fire into the list it belongs in."""
        kind = rule.kind
        if kind == "above":
            slot: Sorted | list[IndexedRule] = self.above
        elif kind == "below":
            slot = self.below
        elif kind == "crosses_up":
            slot = self.cross_up
        elif kind == "crosses_down":
            slot = self.cross_down
        elif rule.warm_at != NOT_WARMING:
            slot = self.group(rule).warming
            self.warming += 1
        else:
            group = rule.group = self.group(rule)
            slot = group.slot(rule)
            group.indexed += 1
        if isinstance(slot, Sorted):
            slot.add(rule)
        else:
            slot.append(rule)
        rule.slot = slot
        if rule.group is not None:
            rule.group.added(rule)

    def unplace(self, rule: IndexedRule) -> None:
        """Take a rule out of its list, if it is in one."""
        slot = rule.slot
        if slot is None:
            return
        rule.slot = None
        if not isinstance(slot, Sorted):
            slot.remove(rule)
            self.warming -= 1
            return
        slot.discard(rule)
        group = rule.group
        if group is not None:
            rule.group = None
            group.indexed -= 1
            group.removed(rule)

    def group(self, rule: IndexedRule) -> MoveGroup | VolumeGroup:
        if rule.kind in MOVES:
            return self.moves[rule.window]
        return self.volumes[rule.window]

    def join(self, rule: IndexedRule) -> None:
        """Count a rule that starts being evaluated, making its group if it is the first."""
        self.members += 1
        if not rule.window:
            return
        if rule.kind in MOVES:
            move = self.moves.get(rule.window) or MoveGroup(rule.window_s, rule.window)
            self.moves[rule.window] = move
            move.members += 1
        else:
            volume = self.volumes.get(rule.window) or VolumeGroup(rule.window_s, rule.window)
            self.volumes[rule.window] = volume
            volume.members += 1
        self.longest = max(self.longest, rule.window)

    def leave(self, rule: IndexedRule) -> None:
        """Uncount a rule; a group without rules is dropped (and, at the markets' next
        ticks, windows no scope needs any more)."""
        self.members -= 1
        if not rule.window:
            return
        groups = self.moves if rule.kind in MOVES else self.volumes
        group = groups[rule.window]
        group.members -= 1
        if group.members == 0:
            del groups[rule.window]
            self.longest = max([*self.moves, *self.volumes], default=0)
