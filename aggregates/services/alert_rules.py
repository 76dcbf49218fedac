"""Alert rules: create, change, pause, resume, delete; triggers and expiry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from aggregates.alert_rule import AlertRule, Trigger
from aggregates.errors import ConcurrentUpdateError, DomainError, InvalidCommandError
from aggregates.message_template import template_problem
from aggregates.rule_spec import RuleSpec
from aggregates.services.base import Service
from aggregates.validation import validated


class AlertRules(Service[AlertRule]):
    """Traders' alert rules."""

    name = "alert_rules"
    kind = "alert_rule"
    aggregate_class = AlertRule
    snapshot_every = 200

    def create(
        self, owner_id: UUID, spec: RuleSpec | Mapping[str, Any], rule_id: UUID | None = None
    ) -> UUID:
        """A new rule. A caller that may retry names the rule's id (the agent derives it
        from its tool call): the retry then finds the rule it made, and makes no other."""
        checked = _bounded(validated(RuleSpec, spec))
        if rule_id is None:
            rule = AlertRule.create_with_id(uuid4(), owner_id, checked)
        else:
            rule = AlertRule.create_with_id(rule_id, owner_id, checked)
        try:
            self.commit(rule)
        except ConcurrentUpdateError:
            if rule_id is None:
                raise
            existing = self.load(rule_id)
            if existing.owner_id != owner_id or existing.spec != checked:
                raise DomainError(f"rule {rule_id} exists already, for another request") from None
        return rule.id

    def update(self, rule_id: UUID, spec: RuleSpec | Mapping[str, Any]) -> int | None:
        new_spec = _bounded(validated(RuleSpec, spec))
        return self.change(rule_id, lambda rule: rule.update(new_spec))

    def pause(self, rule_id: UUID) -> int | None:
        return self.change(rule_id, AlertRule.pause)

    def resume(self, rule_id: UUID) -> int | None:
        return self.change(rule_id, AlertRule.resume)

    def delete(self, rule_id: UUID) -> int | None:
        return self.change(rule_id, AlertRule.delete)

    def record_trigger(self, rule_id: UUID, trigger: Trigger | Mapping[str, Any]) -> int | None:
        fired = validated(Trigger, trigger, field="trigger")
        return self.change(rule_id, lambda rule: rule.record_trigger(fired))

    def expire(self, rule_id: UUID, at: datetime) -> int | None:
        return self.change(rule_id, lambda rule: rule.expire(at))


def _bounded(spec: RuleSpec) -> RuleSpec:
    """Refuse a message template that could render an unreadable alert (see
    `aggregates.message_template`)."""
    if spec.message_template is not None:
        problem = template_problem(spec.message_template)
        if problem is not None:
            raise InvalidCommandError(problem, field="message_template")
    return spec
