"""The `rule-firings` handler: each alert recorded on the rule that fired it.

The engine appends the alert atomically with the tick's acknowledgement; recording the
firing on the AlertRule aggregate is a second write, made here from the alert, so a
rule's trigger count, last firing and (for a once-rule) completion are in its history
and survive anything. The aggregate checks the firing against the rule's frequency, so
an engine bug cannot make a once-rule fire twice on the record.

Redelivery: firings of one price rule are recorded in order (its alerts share a
partition), so an alert at or before the rule's last recorded firing was recorded
already and is skipped. A post rule's alerts may sit in several partitions (those of
the posts that fired it); one recorded after a later firing of the same rule is taken
for a redelivery and not counted (its alert was delivered all the same). A refusal by
the aggregate (the rule was paused or deleted in between) is logged and acknowledged:
retrying would not change the answer. A command changing one of the batch's rules
meanwhile makes the commit conflict: the whole batch is loaded and applied again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

import structlog

from aggregates.alert_rule import AlertRule, Trigger
from aggregates.errors import DomainError, NotFoundError
from events.catalog import AlertTriggered
from events.envelope import RecordedEvent
from handlers.declaration import handler
from rules.context import FiringsContext
from rules.handler import NOTICE_CONDITIONS

log = structlog.get_logger(__name__)


@handler("rule-firings", categories=["alerts"], types=[AlertTriggered], context=FiringsContext)
class FiringRecorder:
    """A batch at a time: each rule it names is loaded once, given all its firings of the
    batch, and every changed rule is saved in one commit (one atomic insert), which is
    what lets it keep up with an engine firing hundreds of alerts a second."""

    def __init__(self, context: FiringsContext) -> None:
        self.alert_rules = context.alert_rules

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
        firings: dict[UUID, list[tuple[RecordedEvent, AlertTriggered]]] = {}
        for recorded in batch:
            alert = recorded.event.payload
            if not isinstance(alert, AlertTriggered):
                raise TypeError(f"expected an alert.triggered, got {recorded.event.type}")
            if alert.condition not in NOTICE_CONDITIONS:  # a notice, not a firing
                firings.setdefault(alert.rule_id, []).append((recorded, alert))
        if firings:
            await asyncio.to_thread(self.alert_rules.retrying, lambda: self._record(firings))

    def _record(self, firings: dict[UUID, list[tuple[RecordedEvent, AlertTriggered]]]) -> None:
        changed: list[AlertRule] = []
        for rule_id, alerts in firings.items():
            try:
                rule = self.alert_rules.load(rule_id)
            except NotFoundError:
                log.warning("alerts of an unknown rule; not recorded", rule_id=str(rule_id))
                continue
            before = rule.version
            for recorded, alert in alerts:
                _record_one(rule, recorded, alert)
            if rule.version != before:
                changed.append(rule)
        if changed:
            self.alert_rules.commit(*changed)


def _record_one(rule: AlertRule, recorded: RecordedEvent, alert: AlertTriggered) -> None:
    last = rule.last_triggered_at
    if last is not None and alert.triggered_at <= last:
        return  # recorded already: this is a redelivery
    trigger = Trigger(
        source_event_id=alert.trigger_event_id,
        source_stream=recorded.stream,
        source_position=str(recorded.position),
        observed_at=alert.triggered_at,
        value=_number(alert.values.get("value")),
        message=alert.message[:2000],
    )
    try:
        rule.record_trigger(trigger)
    except DomainError as refusal:
        log.info(
            "firing not recorded",
            rule_id=str(alert.rule_id),
            correlation_id=str(recorded.event.correlation_id),
            reason=str(refusal),
        )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
