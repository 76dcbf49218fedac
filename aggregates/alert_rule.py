"""An alert rule: what a trader wants to hear about, and its life from creation to end.

Lifecycle: created (active) -> paused <-> resumed; triggered (a "once" rule then
completes); expired; deleted. The aggregate refuses what its state does not allow, and
enforces the frequency itself, so no engine bug can make a once-rule fire twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field

from aggregates.errors import DomainError
from aggregates.model import (
    Aggregate,
    AggregateSnapshot,
    Immutable,
    SnapshotState,
    register_aggregate,
)
from aggregates.rule_spec import (
    Once,
    RuleSpec,
    fires_again_at,
    refuse_never_firing,
)

Status = Literal["active", "paused", "completed", "expired", "deleted"]


class Trigger(Immutable):
    """Why a rule fired: the event that made its condition hold, and what was seen."""

    source_event_id: UUID
    source_stream: str
    source_position: str
    observed_at: datetime
    value: float | None = None
    message: str = Field(default="", max_length=2000)


class AlertRuleState(SnapshotState):
    owner_id: UUID
    spec: RuleSpec
    status: Status
    trigger_count: int
    last_triggered_at: datetime | None


class AlertRule(Aggregate):
    """One trader's rule."""

    class Snapshot(AggregateSnapshot):
        state: AlertRuleState

    @event("Created")
    def __init__(self, owner_id: UUID, spec: RuleSpec) -> None:
        self.owner_id = owner_id
        self.spec = spec
        self.status: Status = "active"
        self.trigger_count = 0
        self.last_triggered_at: datetime | None = None

    @classmethod
    def create_with_id(cls, rule_id: UUID, owner_id: UUID, spec: RuleSpec) -> AlertRule:
        """A new rule, with an id its creator chose (so that creating it again, a retried
        request, finds the same rule instead of making a second one); refused if it could
        never fire (`refuse_never_firing`)."""
        refuse_never_firing(spec)
        return cls._create(cls.Created, id=rule_id, owner_id=owner_id, spec=spec)

    # -- commands -----------------------------------------------------------------------

    def update(self, spec: RuleSpec) -> None:
        self._refuse_if("deleted", "expired", action="change")
        refuse_never_firing(spec)
        if spec != self.spec:
            self._updated(spec)

    def pause(self) -> None:
        if self.status != "active":
            raise DomainError(f"only an active rule can be paused; this one is {self.status}")
        self._paused()

    def resume(self) -> None:
        if self.status != "paused":
            raise DomainError(f"only a paused rule can be resumed; this one is {self.status}")
        self._resumed()

    def record_trigger(self, trigger: Trigger) -> None:
        """Record a firing; refused when the rule is not active or too soon again."""
        if self.status != "active":
            raise DomainError(f"a {self.status} rule does not fire")
        wait = self.quiet_until()
        if wait is not None and trigger.observed_at < wait:
            raise DomainError(f"the rule may fire again at {wait.isoformat()}, not before")
        self._triggered(trigger)

    def quiet_until(self) -> datetime | None:
        """When the frequency lets the rule fire again (None: whenever it holds)."""
        return fires_again_at(self.spec.frequency, self.last_triggered_at)

    def expire(self, at: datetime) -> None:
        self._refuse_if("deleted", "expired", action="expire")
        if self.spec.expires_at is None or at < self.spec.expires_at:
            raise DomainError("the rule has not reached its expiry")
        self._expired(at)

    def delete(self) -> None:
        self._refuse_if("deleted", action="delete")
        self._deleted()

    def _refuse_if(self, *statuses: Status, action: str) -> None:
        if self.status in statuses:
            raise DomainError(f"cannot {action} a rule that is {self.status}")

    # -- events -------------------------------------------------------------------------

    @event("Updated")
    def _updated(self, spec: RuleSpec) -> None:
        self.spec = spec
        if self.status == "completed":
            self.status = "active"

    @event("Paused")
    def _paused(self) -> None:
        self.status = "paused"

    @event("Resumed")
    def _resumed(self) -> None:
        self.status = "active"

    @event("Triggered")
    def _triggered(self, trigger: Trigger) -> None:
        self.trigger_count += 1
        self.last_triggered_at = trigger.observed_at
        if isinstance(self.spec.frequency, Once):
            self.status = "completed"

    @event("Expired")
    def _expired(self, at: datetime) -> None:
        self.status = "expired"

    @event("Deleted")
    def _deleted(self) -> None:
        self.status = "deleted"


register_aggregate(AlertRule, "alert_rule")
