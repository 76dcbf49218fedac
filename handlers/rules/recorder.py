"""The `rule-firings` handler: each alert recorded on the rule that fired it.

The engine appends the alert atomically with the tick's acknowledgement; recording the
firing on the AlertRule aggregate is a second write, made here from the alert, so a
rule's trigger count, last firing and (for a once-rule) completion are in its history
and survive anything. The aggregate checks the firing against the rule's frequency, so
an engine bug cannot make a once-rule fire twice on the record.

Redelivery: firings of one rule are recorded in order (a rule's alerts share a
partition), so an alert at or before the rule's last recorded firing was recorded
already and is skipped. A refusal by the aggregate (the rule was paused or deleted
in between) is logged and acknowledged: retrying would not change the answer.
"""

from __future__ import annotations

import asyncio

import structlog

from aggregates.alert_rule import AlertRule, Trigger
from aggregates.errors import ConcurrentUpdateError, DomainError, NotFoundError
from events.catalog import AlertTriggered
from events.envelope import RecordedEvent
from events.errors import ConfigurationError
from handlers.declaration import HandlerContext, HandlerResult, handler
from handlers.rules.handler import STALE_CONDITION
from impressox.services import Services, build_services

log = structlog.get_logger(__name__)


@handler("rule-firings", categories=["alerts"], types=[AlertTriggered])
class FiringRecorder:
    def __init__(self, context: HandlerContext) -> None:
        settings = context.settings
        if settings is None or settings.redis_url is None:
            raise ConfigurationError("the rule-firings handler needs the settings and REDIS_URL")
        self.services: Services = build_services(settings, settings.redis_url)

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        alert = recorded.event.payload
        if not isinstance(alert, AlertTriggered):
            raise TypeError(f"expected an alert.triggered, got {recorded.event.type}")
        if alert.condition == STALE_CONDITION:
            return None  # a notice about the prices, not a firing of the rule
        await asyncio.to_thread(self._record, recorded, alert)
        return None

    def _record(self, recorded: RecordedEvent, alert: AlertTriggered) -> None:
        trigger = Trigger(
            source_event_id=alert.trigger_event_id,
            source_stream=recorded.stream,
            source_position=str(recorded.position),
            observed_at=alert.triggered_at,
            value=_number(alert.values.get("value")),
            message=alert.message[:2000],
        )
        bound = log.bind(
            rule_id=str(alert.rule_id), correlation_id=str(recorded.event.correlation_id)
        )

        def record(rule: AlertRule) -> None:
            last = rule.last_triggered_at
            if last is not None and alert.triggered_at <= last:
                return  # recorded already: this is a redelivery
            rule.record_trigger(trigger)

        try:
            self.services.alert_rules.retrying(
                lambda: self.services.alert_rules.change(alert.rule_id, record)
            )
        except NotFoundError:
            bound.warning("alert of an unknown rule; not recorded")
        except ConcurrentUpdateError:
            raise  # still racing after the retries: let the runtime try again later
        except DomainError as refusal:
            bound.info("firing not recorded", reason=str(refusal))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
