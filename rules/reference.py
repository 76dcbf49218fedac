"""The naive evaluator: on every tick, every rule of every symbol, one at a time.

It follows the semantics in `rules.engine`'s docstring as directly as it can:
each market (symbol and venue) remembers its recent ticks, and each rule recomputes its
own window from those of the tick's venue on each tick. No index, no heaps, no
incremental sums. It is the oracle the engine is tested against (same firings, bit for
bit) and the baseline it is measured against: the reference design scanned all rules on
each poll, as this does on each tick.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from uuid import UUID

from aggregates.rule_spec import (
    AbsoluteMove,
    PercentChange,
    SymbolTarget,
    VolumeSpike,
)
from rules.firing import (
    Firing,
    Observation,
    RuleState,
    after_firing,
    make_firing,
    merged,
    quiet_until,
    threshold_of,
)
from rules.windows import moves, quotient, reached, signed, to_micros

Outcome = tuple[float, dict[str, float]]
"""What a rule whose condition holds reports: its value and everything compared."""
Market = tuple[str, str]
"""A symbol on a venue: the prices every rule evaluating its ticks compares."""


@dataclass(frozen=True, slots=True)
class _Seen:
    """A tick as a market remembers it: its number, its time on the symbol's clock."""

    number: int
    time: int
    price: float
    volume: float


@dataclass(slots=True)
class _Held:
    state: RuleState
    armed: int
    """How many ticks had been seen when the rule was armed: it sees only later ones."""


class ReferenceEngine:
    """Same surface as `RuleEngine` (without market state), evaluated by brute force."""

    def __init__(self) -> None:
        self._rules: dict[UUID, _Held] = {}
        self._seen: dict[Market, deque[_Seen]] = {}
        self._previous: dict[Market, _Seen] = {}
        self._ticks = 0
        self._clock: int | None = None
        self._symbol_clocks: dict[str, int] = {}
        self._longest = 0
        """The longest window of any rule ever held: older ticks can never be needed."""

    def __len__(self) -> int:
        return sum(1 for held in self._rules.values() if self._evaluated(held.state))

    def upsert(self, rule: RuleState) -> None:
        if not isinstance(rule.spec.target, SymbolTarget):
            self.remove(rule.rule_id)
            return
        held = self._rules.get(rule.rule_id)
        state = merged(held.state if held is not None else None, rule)
        keeps_arming = (
            held is not None
            and self._evaluated(held.state)
            and self._evaluated(state)
            and state.spec.target == held.state.spec.target
            and state.spec.condition == held.state.spec.condition
        )
        armed = held.armed if held is not None and keeps_arming else self._ticks
        self._rules[rule.rule_id] = _Held(state, armed)
        window_s = getattr(state.spec.condition, "window_s", 0)
        self._longest = max(self._longest, window_s * 1_000_000)

    def remove(self, rule_id: UUID) -> None:
        self._rules.pop(rule_id, None)

    def record_firing(self, rule_id: UUID, at: datetime) -> None:
        held = self._rules.get(rule_id)
        if held is None:
            return
        last = held.state.last_triggered_at
        if last is None or at > last:
            held.state = after_firing(held.state, at)

    def rules(self) -> Iterator[RuleState]:
        return (held.state for held in self._rules.values())

    def evaluate(self, tick: Observation) -> list[Firing]:
        t = to_micros(tick.at)
        self._ticks += 1
        self._clock = t if self._clock is None else max(self._clock, t)
        now = max(t, self._symbol_clocks.get(tick.symbol, t))
        self._symbol_clocks[tick.symbol] = now
        hits: list[tuple[_Held, float, dict[str, float]]] = []
        for held in self._rules.values():
            target = held.state.spec.target
            assert isinstance(target, SymbolTarget)
            if target.symbol != tick.symbol or target.venue not in (None, tick.venue):
                continue
            if not self._evaluated(held.state):
                continue
            outcome = self._check(held, (tick.symbol, tick.venue), tick, now)
            quiet = quiet_until(held.state)
            if outcome is not None and (quiet is None or t >= to_micros(quiet)):
                hits.append((held, *outcome))
        self._remember((tick.symbol, tick.venue), _Seen(self._ticks, now, tick.price, tick.volume))
        hits.sort(key=lambda hit: hit[0].state.rule_id)
        firings = []
        for held, value, values in hits:
            held.state = after_firing(held.state, tick.at)
            firings.append(make_firing(held.state, tick, value, values))
        return firings

    def _evaluated(self, state: RuleState) -> bool:
        expires = state.spec.expires_at
        return state.status == "active" and (
            expires is None or self._clock is None or to_micros(expires) > self._clock
        )

    def _check(
        self, held: _Held, market: tuple[str, str], tick: Observation, now: int
    ) -> Outcome | None:
        condition = held.state.spec.condition
        price = tick.price
        threshold = threshold_of(condition)
        if condition.type == "above":
            return (price, {"threshold": threshold}) if price > threshold else None
        if condition.type == "below":
            return (price, {"threshold": threshold}) if price < threshold else None
        if condition.type in ("crosses_up", "crosses_down"):
            return self._crossing(held, market, price, threshold)
        if isinstance(condition, PercentChange | AbsoluteMove):
            window = self._window(held, market, now, condition.window_s)
            prices = [seen.price for seen in window] + [price]
            low, high = min(prices), max(prices)
            rise, fall = moves(condition.type, price, low, high)
            if reached(condition.direction, rise, fall) < threshold:
                return None
            values = {"threshold": threshold, "window_s": float(condition.window_s)}
            return signed(condition.direction, rise, fall), values | {"low": low, "high": high}
        assert isinstance(condition, VolumeSpike)
        return self._spike(held, market, tick.volume, now, condition)

    def _crossing(
        self, held: _Held, market: Market, price: float, threshold: float
    ) -> Outcome | None:
        previous = self._previous.get(market)
        if previous is None or previous.number <= held.armed:
            return None
        if held.state.spec.condition.type == "crosses_up":
            crossed = previous.price <= threshold < price
        else:
            crossed = previous.price >= threshold > price
        return (price, {"threshold": threshold, "previous": previous.price}) if crossed else None

    def _spike(
        self,
        held: _Held,
        market: Market,
        volume: float,
        now: int,
        condition: VolumeSpike,
    ) -> Outcome | None:
        window = self._window(held, market, now, condition.window_s)
        total = sum((Fraction(seen.volume) for seen in window), Fraction(0))
        if not window or total == 0:
            return None
        exact = Fraction(volume) * len(window) / total
        figure = quotient(exact.numerator, exact.denominator)
        if figure < condition.multiple:
            return None
        return figure, {
            "threshold": condition.multiple,
            "window_s": float(condition.window_s),
            "volume": volume,
            "mean_volume": float(total / len(window)),
            "ticks": float(len(window)),
        }

    def _window(self, held: _Held, market: Market, now: int, window_s: int) -> list[_Seen]:
        """The market's earlier ticks after the rule's arming, within `window_s` of now."""
        since = now - window_s * 1_000_000
        return [
            seen
            for seen in self._seen.get(market, ())
            if seen.number > held.armed and seen.time > since
        ]

    def _remember(self, market: Market, seen: _Seen) -> None:
        self._previous[market] = seen
        remembered = self._seen.setdefault(market, deque())
        remembered.append(seen)
        while remembered and remembered[0].time <= seen.time - self._longest:
            remembered.popleft()
