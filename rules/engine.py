"""The indexed rule engine: a tick touches only the rules it can fire.

Semantics (`reference.ReferenceEngine` implements the same, one rule at a time):

1. **Scope and market.** A rule watches its symbol on one venue, or on every venue
   (``venue=None``), each venue's prices on their own: a tick of venue v concerns its
   symbol's any-venue rules and its v rules, and both compare it with market v (the
   previous tick of v, the window of v's ticks). Venues never mix: a price posted by
   hand (venue ``manual``) cannot make another venue's price seem to move.
2. **Evaluated rules.** Only rules with status "active" whose ``expires_at`` is later
   than the engine's clock (the latest tick time it has seen) are evaluated; the rest are
   silent. Expiring the aggregate is not the engine's job; it just stops evaluating.
   Rules that do not watch a symbol are not price rules: upserting one removes it.
3. **Time.** Times are integer microseconds of the ticks' own ``at`` (exact, as the
   aggregate's datetimes are). Windows run on the symbol's clock: a tick stamped
   earlier than its symbol's latest tick (of any venue) counts as happening at that
   latest time, so windows never run backwards when venues interleave.
4. **Arming.** A rule is armed when it starts being evaluated (created or made active,
   resumed, its expiry moved past the clock) or when its target or condition changes;
   other updates (frequency, expiry, severity, channels, name, template) keep it armed
   as it was. A rule only ever sees ticks that arrived after it was armed.
5. **Conditions**, for a tick of price ``p``:

   - above: ``p > threshold``; below: ``p < threshold``.
   - crosses_up: ``previous <= threshold < p``; crosses_down: ``previous >= threshold
     > p``, where ``previous`` is the price of the market's previous tick; only when
     that tick arrived after arming, so the first tick of a venue after arming only
     sets it.
   - percent_change, absolute_move: the window is the ticks of the market with time in
     ``(now - window_s, now]``, the current one included. ``rise = p - low`` and
     ``fall = high - p`` (absolute), or the same in percent of ``low`` and of ``high``.
     "up" compares the rise, "down" the fall, "either" the larger, with ``>=``. The
     value is the signed move: the rise, or minus the fall (either: the larger, the
     rise on a tie).
   - volume_spike: over the window's *previous* ticks (the current one excluded; at
     least one, with a positive total volume), ``multiple = volume / mean``, computed
     exactly and rounded once; it fires when ``multiple >= `` the rule's multiple.

6. **Frequency**, as ``AlertRule.quiet_until``: "once" completes the rule when it
   fires; "every_time" and "at_most_once_per" fire again only from
   ``last_triggered_at + cooldown_s/interval_s`` on (that instant included).
7. **Output.** A tick's firings come ordered by rule id; each firing is recorded in the
   engine's own state at once (last firing, count; "once" rules complete).
8. **Told states** (`upsert`) may lag the engine's own firings: see `firing.merged`.
   A firing learnt from elsewhere (`record_firing`) counts only if it is later than
   the last one known.

How it is fast: per scope, rules sit in lists sorted by their figure (`index`), so a
tick's firings are a slice found by bisection (`scan`): above/below by price, crossings
by the range between the previous and the current price, windowed rules by the move or
multiple measured for their window group, whose lows, highs and volume sums come from
one monotonic window per market (`windows`); a group whose smallest threshold the
measure does not reach is passed over without touching its lists. A rule waiting out
its cooldown leaves the lists for a heap keyed by the time it may fire again, and an
expiring rule is dropped from a heap keyed by its expiry; neither is touched by ticks
meanwhile. A windowed rule armed while its window still holds older ticks is evaluated
alone ("warming") until those have left its window.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from aggregates.rule_spec import SymbolTarget
from events.errors import ImpressoxError
from rules import scan
from rules.firing import Firing, Observation, RuleState, after_firing, make_firing, merged
from rules.index import (
    FOREVER,
    LONG_AGO,
    NOT_WARMING,
    IndexedRule,
    Market,
    MoveGroup,
    Scope,
    VolumeGroup,
)
from rules.scan import Hit, Pass
from rules.windows import TickWindow, to_micros

log = structlog.get_logger(__name__)

STATE_VERSION = 2
"""The layout of `RuleEngine.market_state()`; a state of another version is refused."""

Timer = tuple[int, int, IndexedRule, int]
"""A heap entry: when, a tie-breaker, the rule, and the generation it was pushed in."""


class MarketStateError(ImpressoxError):
    """A market state could not be restored: malformed, of another version, or too late."""


class RuleEngine:
    """Evaluates price ticks against every evaluated rule, through an index (see above)."""

    def __init__(self) -> None:
        self._rules: dict[UUID, IndexedRule] = {}
        self._scopes: dict[str, dict[str | None, Scope]] = {}
        self._markets: dict[str, dict[str, Market]] = {}
        """By symbol, then venue: kept while the symbol has rules."""
        self._ticks = 0
        self._clock = LONG_AGO
        self._symbol_clocks: dict[str, int] = {}
        self._cooling: list[Timer] = []
        self._expiring: list[Timer] = []
        self._order = itertools.count()
        self._restored: dict[UUID, tuple[int, int]] = {}
        self._evaluated = 0

    def __len__(self) -> int:
        """How many rules are evaluated (active and not past their expiry)."""
        return self._evaluated

    # -- rules ------------------------------------------------------------------------------

    def upsert(self, rule: RuleState) -> None:
        """Add a rule or take its new state (spec change, pause, resume, status change)."""
        if not isinstance(rule.spec.target, SymbolTarget):
            self.remove(rule.rule_id)
            return
        held = self._rules.get(rule.rule_id)
        state = merged(held.state if held is not None else None, rule)
        if held is not None and held.scope is not None and self._keeps_arming(held.state, state):
            held.refresh(state)
            self._schedule_expiry(held)
            self._place(held)
            return
        if held is not None and held.scope is not None:
            self._leave(held)
        fresh = self._rules[rule.rule_id] = IndexedRule(state)
        if self._evaluable(fresh):
            self._join(fresh)
            self._arm(fresh)
            self._place(fresh)

    def remove(self, rule_id: UUID) -> None:
        held = self._rules.pop(rule_id, None)
        if held is not None and held.scope is not None:
            self._leave(held)

    def record_firing(self, rule_id: UUID, at: datetime) -> None:
        """Apply a firing learnt from elsewhere; one at or before the last known is a no-op."""
        held = self._rules.get(rule_id)
        if held is None:
            log.debug("firing of an unknown rule ignored", rule_id=str(rule_id))
            return
        last = held.state.last_triggered_at
        if last is not None and at <= last:
            return
        held.refresh(after_firing(held.state, at))
        if held.scope is None:
            return
        if held.state.status != "active":
            self._leave(held)
        else:
            self._place(held)

    def rules(self) -> Iterator[RuleState]:
        """Every rule held, with its current state (for snapshots), as of this call."""
        return iter([held.state for held in self._rules.values()])

    # -- ticks ------------------------------------------------------------------------------

    def evaluate(self, tick: Observation) -> list[Firing]:
        """The firings `tick` causes, already recorded in the rules' state."""
        t = to_micros(tick.at)
        self._ticks += 1
        if self._restored:
            self._restored.clear()
        if t > self._clock:
            self._clock = t
            cooling, expiring = self._cooling, self._expiring
            if (cooling and cooling[0][0] <= t) or (expiring and expiring[0][0] <= t):
                self._wake()
        symbol = tick.symbol
        symbol_time = self._symbol_clocks.get(symbol, t)
        now = self._symbol_clocks[symbol] = t if t > symbol_time else symbol_time
        scopes = self._scopes.get(symbol)
        if scopes is None:
            return []
        venue = tick.venue
        every = scopes.get(None)
        only = scopes.get(venue)
        if every is None:
            if only is None:
                return []
            read: tuple[Scope, ...] = (only,)
        else:
            read = (every,) if only is None else (every, only)
        markets = self._markets.get(symbol)
        if markets is None:
            markets = self._markets[symbol] = {}
        market = markets.get(venue)
        if market is None:
            market = markets[venue] = Market()
        this = Pass(tick, t, now, self._ticks)
        self._compare(read, market, this)
        return self._fire(this) if this.hits else []

    def _compare(self, scopes: tuple[Scope, ...], market: Market, this: Pass) -> None:
        """The rules of `scopes` (the symbol's any-venue scope, the tick's venue's) against
        the tick and its venue's market; then the tick joins the market."""
        longest = 0
        for scope in scopes:
            scan.thresholds(scope, market, this)
            longest = max(longest, scope.longest)
        if longest:
            window = market.window
            if window is None:
                window = market.window = TickWindow()
            self._windows(scopes, market, window, this, longest)
        elif market.window is not None:
            market.window = None
            market.extents.clear()
        market.previous = this.tick.price
        market.previous_number = this.number

    def _windows(
        self,
        scopes: tuple[Scope, ...],
        market: Market,
        window: TickWindow,
        this: Pass,
        longest: int,
    ) -> None:
        """Windowed rules: volume against the ticks before this one, moves including it."""
        for scope in scopes:
            if scope.warming:
                self._promote(scope, this.now)
            if scope.volumes:
                if scope.warming:
                    scan.warm_spikes(scope, window, this)
                scan.spikes(scope, window, this)
        tick = this.tick
        window.push(this.number, this.now, tick.price, tick.volume, this.now - longest)
        for scope in scopes:
            if scope.moves:
                if scope.warming:
                    scan.warm_moves(scope, window, this)
                scan.price_moves(scope, market, window, this)

    def _promote(self, scope: Scope, now: int) -> None:
        """Index the warming rules whose whole window now lies after their arming."""
        groups: list[MoveGroup | VolumeGroup] = [*scope.moves.values(), *scope.volumes.values()]
        for group in groups:
            for rule in [rule for rule in group.warming if rule.warm_at <= now]:
                rule.warm_at = NOT_WARMING
                self._place(rule)

    def _fire(self, this: Pass) -> list[Firing]:
        hits = this.hits
        if len(hits) > 1:
            hits.sort(key=_by_rule_id)
        firings = []
        tick = this.tick
        for rule, value, values in hits:
            state = rule.state = after_firing(rule.state, tick.at)
            firings.append(make_firing(state, tick, value, values))
            if state.status != "active":
                self._leave(rule)
                continue
            rule.quiet_at = this.t + rule.pause
            if rule.quiet_at > self._clock:
                self._place(rule)
        return firings

    # -- where a rule is --------------------------------------------------------------------

    def _evaluable(self, rule: IndexedRule) -> bool:
        return rule.state.status == "active" and rule.expires_at > self._clock

    def _keeps_arming(self, held: RuleState, state: RuleState) -> bool:
        return (
            state.status == "active"
            and (state.spec.expires_at is None or to_micros(state.spec.expires_at) > self._clock)
            and state.spec.target == held.spec.target
            and state.spec.condition == held.spec.condition
        )

    def _join(self, rule: IndexedRule) -> None:
        symbol, venue = rule.scope_key
        scopes = self._scopes.setdefault(symbol, {})
        scope = scopes.get(venue)
        if scope is None:
            scope = scopes[venue] = Scope()
        scope.join(rule)
        rule.scope = scope
        self._evaluated += 1
        self._schedule_expiry(rule)

    def _leave(self, rule: IndexedRule) -> None:
        self._unplace(rule)
        scope = rule.scope
        assert scope is not None, "only an evaluated rule leaves"
        rule.scope = None
        rule.join_gen += 1
        self._evaluated -= 1
        scope.leave(rule)
        if scope.members == 0:
            symbol, venue = rule.scope_key
            scopes = self._scopes[symbol]
            del scopes[venue]
            if not scopes:
                del self._scopes[symbol]
                self._markets.pop(symbol, None)

    def _schedule_expiry(self, rule: IndexedRule) -> None:
        rule.join_gen += 1
        if rule.expires_at != FOREVER:
            timer = (rule.expires_at, next(self._order), rule, rule.join_gen)
            heapq.heappush(self._expiring, timer)

    def _arm(self, rule: IndexedRule) -> None:
        restored = self._restored.pop(rule.state.rule_id, None)
        if restored is not None:
            rule.armed, rule.warm_at = restored
            return
        rule.armed = self._ticks
        rule.warm_at = NOT_WARMING
        if rule.window and self._holds_ticks(*rule.scope_key):
            rule.warm_at = self._symbol_clocks[rule.scope_key[0]] + rule.window

    def _holds_ticks(self, symbol: str, venue: str | None) -> bool:
        """Whether a window the rules of (symbol, venue) read holds ticks already."""
        markets = self._markets.get(symbol, {})
        read = markets.values() if venue is None else [markets[venue]] if venue in markets else []
        return any(market.window is not None and len(market.window) for market in read)

    def _place(self, rule: IndexedRule) -> None:
        """Put an evaluated rule where it belongs now: a list, or the cooldown heap."""
        self._unplace(rule)
        scope = rule.scope
        assert scope is not None, "only an evaluated rule is placed"
        if rule.quiet_at > self._clock:
            timer = (rule.quiet_at, next(self._order), rule, rule.place_gen)
            heapq.heappush(self._cooling, timer)
        else:
            scope.place(rule)

    def _unplace(self, rule: IndexedRule) -> None:
        rule.place_gen += 1
        if rule.scope is not None:
            rule.scope.unplace(rule)

    def _wake(self) -> None:
        """The clock moved: index rules whose cooldown ended, drop rules that expired."""
        clock = self._clock
        cooling = self._cooling
        while cooling and cooling[0][0] <= clock:
            _, _, rule, generation = heapq.heappop(cooling)
            if generation == rule.place_gen and rule.scope is not None:
                self._place(rule)
        expiring = self._expiring
        while expiring and expiring[0][0] <= clock:
            _, _, rule, generation = heapq.heappop(expiring)
            if generation == rule.join_gen and rule.scope is not None:
                self._leave(rule)

    # -- market state -----------------------------------------------------------------------

    def market_state(self) -> dict[str, Any]:
        """What evaluation needs besides the rules, as JSON-able data (for snapshots)."""
        return {
            "version": STATE_VERSION,
            "ticks": self._ticks,
            "clock": self._clock,
            "symbol_clocks": dict(self._symbol_clocks),
            "markets": [
                {
                    "symbol": symbol,
                    "venue": venue,
                    "previous": None
                    if market.previous is None
                    else [market.previous_number, market.previous],
                    "window": None if market.window is None else market.window.rows(),
                }
                for symbol, markets in self._markets.items()
                for venue, market in markets.items()
            ],
            "armed": {
                str(rule_id): [rule.armed, None if rule.warm_at == NOT_WARMING else rule.warm_at]
                for rule_id, rule in self._rules.items()
                if rule.scope is not None
            },
        }

    def restore_market_state(self, state: dict[str, Any]) -> None:
        """Continue from a market state, before any tick; rules may be upserted before or
        after (a rule it names keeps the arming it had, so it sees the same ticks)."""
        if self._ticks:
            raise MarketStateError(
                f"a market state is restored into a fresh engine; this one has evaluated"
                f" {self._ticks} ticks"
            )
        if state.get("version") != STATE_VERSION:
            raise MarketStateError(
                f"market state version {state.get('version')!r} is not {STATE_VERSION}"
            )
        try:
            self._load(state)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise MarketStateError(f"malformed market state: {error!r}") from error
        for rule in list(self._rules.values()):
            if rule.scope is not None and not self._evaluable(rule):
                self._leave(rule)
            elif rule.scope is not None:
                self._arm(rule)
                self._schedule_expiry(rule)
                self._place(rule)
        log.info(
            "market state restored",
            ticks=self._ticks,
            markets=len(state["markets"]),
            rules=self._evaluated,
        )

    def _load(self, state: dict[str, Any]) -> None:
        self._ticks = int(state["ticks"])
        self._clock = int(state["clock"])
        self._symbol_clocks = {str(k): int(v) for k, v in state["symbol_clocks"].items()}
        self._restored = {
            UUID(rule_id): (int(armed), NOT_WARMING if warm_at is None else int(warm_at))
            for rule_id, (armed, warm_at) in state["armed"].items()
        }
        for entry in state["markets"]:
            market = self._markets.setdefault(str(entry["symbol"]), {}).setdefault(
                str(entry["venue"]), Market()
            )
            previous = entry["previous"]
            if previous is not None:
                market.previous_number, market.previous = int(previous[0]), float(previous[1])
            if entry["window"] is not None:
                market.window = TickWindow.from_rows(entry["window"])


def _by_rule_id(hit: Hit) -> UUID:
    return hit[0].state.rule_id
