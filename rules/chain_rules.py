"""Chain rules: which rules a chain event fires, found by address lookups, never a scan.

Semantics (for rules whose target is a `ChainTarget`, condition `Transferred`):

1. **Wallet rules** (`wallet` set) match value transfers (ERC-20 ``Transfer`` logs and
   native transfers) from or to the wallet: ``out`` when it sent, ``in`` when it
   received. `token` is the token's address, or a symbol compared in any case (the
   native coin's is ``ETH`` on most chains); `counterparty` is the other side.
2. **Contract rules** (no wallet) match logs the contract emitted, of `event` if named
   (by its ABI name), whose decoded arguments pass every filter of `where`.
3. **Amounts.** `min_amount` (above zero) needs a value transfer whose amount, scaled by
   the token's decimals, is at least it; `min_usd` needs its USD value (known when a
   price of its symbol was) to be at least it. An unknown amount or value meets no
   threshold.
4. **Stage.** A rule fires on ``chain.confirmed`` (`fire_on` = ``confirmed``) or on
   ``chain.observed`` (``observed``). A ``chain.retracted`` of an observation a rule
   fired on gives a `Reversal`: the handler tells the rule's owner the event was undone.
5. **Arming, time, frequency**: as for post rules (`rules.posts`): a rule fires
   only on events that arrived at or after its ``armed_at``; the clock is the arrival
   time, moved on by a microsecond at least per event, so a rule's firings have
   distinct, increasing times.

Exactly one alert per (rule, event): the handler appends a firing atomically with the
event's acknowledgement, and a rule fires on one stage of an event only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from aggregates.rule_spec import ArgFilter, ChainTarget, Transferred
from events.catalog.chain import ChainRecord, ValueTransfer
from rules.firing import RuleState, after_firing, merged, quiet_until
from rules.posts import LONG_AGO, TICK

Stage = Literal["observed", "confirmed"]
FIRED_MEMORY = 100_000
"""How many (observation, rules) pairs an index remembers for reversals: far more than a
reorg ever retracts, bounded so a busy chain cannot grow it for ever."""


@dataclass(frozen=True, slots=True)
class ChainFiring:
    """A rule a chain event fired, as it is after firing, and when."""

    state: RuleState
    at: datetime


@dataclass(frozen=True, slots=True)
class Reversal:
    """A rule that fired on an observation a reorg has now retracted."""

    state: RuleState
    at: datetime


class ChainRuleIndex:
    """The chain rules of a process, indexed by the addresses they watch."""

    def __init__(self) -> None:
        self._rules: dict[UUID, RuleState] = {}
        self._by_address: dict[str, set[UUID]] = {}
        self._fired: dict[UUID, set[UUID]] = {}
        """Observation id -> the rules that fired on it (insertion-ordered, bounded)."""
        self._clock = LONG_AGO

    def __len__(self) -> int:
        """How many rules are indexed (active)."""
        return sum(1 for state in self._rules.values() if state.status == "active")

    # -- rules ------------------------------------------------------------------------------

    def upsert(self, rule: RuleState) -> None:
        """Add a rule or take its new state; a rule that does not watch a chain is removed."""
        if not isinstance(rule.spec.target, ChainTarget):
            self.remove(rule.rule_id)
            return
        held = self._rules.get(rule.rule_id)
        if held is not None:
            self._unindex(held)
        state = self._rules[rule.rule_id] = merged(held, rule)
        if state.status == "active":
            self._by_address.setdefault(watched_address(state), set()).add(state.rule_id)

    def remove(self, rule_id: UUID) -> None:
        held = self._rules.pop(rule_id, None)
        if held is not None:
            self._unindex(held)

    def rules(self) -> Iterator[RuleState]:
        return iter(list(self._rules.values()))

    def remember(self, observation_id: UUID, rule_id: UUID) -> None:
        """That `rule_id` fired on `observation_id` (a firing recovered at start)."""
        self._fired.setdefault(observation_id, set()).add(rule_id)
        while len(self._fired) > FIRED_MEMORY:
            del self._fired[next(iter(self._fired))]

    # -- events -----------------------------------------------------------------------------

    def evaluate(
        self, record: ChainRecord, stage: Stage, observation_id: UUID, arrived_at: datetime
    ) -> list[ChainFiring]:
        """The firings of `record` at `stage`, already recorded in the rules' state."""
        now = self._tick(arrived_at)
        firings = []
        for rule_id in sorted(self._candidates(record)):
            state = self._rules[rule_id]
            target = state.spec.target
            assert isinstance(target, ChainTarget), "only chain rules are indexed here"
            if (target.fire_on or "confirmed") != stage or state.status != "active":
                continue
            expires_at = state.spec.expires_at
            if expires_at is not None and expires_at <= now:
                continue  # the rule book has the aggregate expire it
            if state.armed_at is not None and arrived_at < state.armed_at:
                continue
            if not matches(target, _condition(state), record):
                continue
            quiet = quiet_until(state)
            if quiet is not None and now < quiet:
                continue
            state = after_firing(state, now)
            self.upsert(state)
            self.remember(observation_id, rule_id)
            firings.append(ChainFiring(state, now))
        return firings

    def retract(self, observation_id: UUID, arrived_at: datetime) -> list[Reversal]:
        """The rules that fired on a retracted observation, each told once."""
        fired = self._fired.pop(observation_id, set())
        now = self._tick(arrived_at) if fired else arrived_at
        held = sorted(fired & self._rules.keys())
        return [Reversal(self._rules[rule_id], now) for rule_id in held]

    def _tick(self, arrived_at: datetime) -> datetime:
        self._clock = arrived_at if arrived_at > self._clock else self._clock + TICK
        return self._clock

    def _candidates(self, record: ChainRecord) -> set[UUID]:
        found: set[UUID] = set()
        for address in _addresses(record):
            found.update(self._by_address.get(address, ()))
        return found

    def _unindex(self, state: RuleState) -> None:
        address = watched_address(state)
        ids = self._by_address.get(address)
        if ids is not None:
            ids.discard(state.rule_id)
            if not ids:
                del self._by_address[address]


def watched_address(state: RuleState) -> str:
    """The address a chain rule is indexed under: its wallet, else its contract."""
    target = state.spec.target
    assert isinstance(target, ChainTarget), "only chain rules are indexed here"
    address = target.wallet or target.contract
    assert address is not None, "a chain target watches something"
    return address.lower()


def _addresses(record: ChainRecord) -> Iterable[str]:
    if record.address is not None:
        yield record.address
    if record.transfer is not None:
        yield record.transfer.sender
        yield record.transfer.recipient


def _condition(state: RuleState) -> Transferred:
    condition = state.spec.condition
    assert isinstance(condition, Transferred), "a chain target's condition is transferred"
    return condition


# -- matching ---------------------------------------------------------------------------------


def matches(target: ChainTarget, condition: Transferred, record: ChainRecord) -> bool:
    """Whether `record` is what the rule watches, at or above its thresholds."""
    if target.wallet is not None:
        if not _wallet_matches(target, target.wallet.lower(), record):
            return False
    elif not _contract_matches(target, record):
        return False
    return _meets_thresholds(condition, record.transfer)


def _wallet_matches(target: ChainTarget, wallet: str, record: ChainRecord) -> bool:
    transfer = record.transfer
    if transfer is None or not (record.native or record.event == "Transfer"):
        return False
    sent, received = transfer.sender == wallet, transfer.recipient == wallet
    if (target.direction == "out" and not sent) or (target.direction == "in" and not received):
        return False
    if not (sent or received):
        return False
    if target.counterparty is not None:
        other = transfer.recipient if sent else transfer.sender
        if other != target.counterparty.lower():
            return False
    if target.contract is not None and record.address != target.contract.lower():
        return False
    return target.token is None or _is_token(target.token, transfer)


def _is_token(token: str, transfer: ValueTransfer) -> bool:
    if token.startswith("0x"):
        return transfer.token == token.lower()
    return transfer.symbol is not None and transfer.symbol.lower() == token.lower()


def _contract_matches(target: ChainTarget, record: ChainRecord) -> bool:
    assert target.contract is not None, "a chain target without a wallet has a contract"
    if record.address != target.contract.lower():
        return False
    if target.event is not None and record.event != target.event:
        return False
    return all(_passes(record.args.get(check.arg), check) for check in target.where)


def _passes(argument: object, check: ArgFilter) -> bool:
    """Whether a decoded argument passes one filter (an absent argument passes none)."""
    value = check.value
    if argument is None:
        return False
    if isinstance(value, str):
        same = isinstance(argument, str) and argument.lower() == value.lower()
        same = same or (isinstance(argument, int | float) and str(argument) == value)
        return same if check.op == "eq" else not same
    if isinstance(argument, bool) or not isinstance(argument, int | float):
        return False
    return {
        "eq": argument == value,
        "ne": argument != value,
        "gt": argument > value,
        "gte": argument >= value,
        "lt": argument < value,
        "lte": argument <= value,
    }[check.op]


def _meets_thresholds(condition: Transferred, transfer: ValueTransfer | None) -> bool:
    amount = None if transfer is None else transfer.amount
    if condition.min_amount > 0 and (amount is None or amount < condition.min_amount):
        return False
    if condition.min_usd is not None:
        if transfer is None or transfer.usd_value is None:
            return False
        if transfer.usd_value < condition.min_usd:
            return False
    return True
