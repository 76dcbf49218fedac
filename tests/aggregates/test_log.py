"""An application's log is an ordinary stream: handlers read aggregate events from it."""

from __future__ import annotations

from uuid import uuid4

from aggregates.alert_rule import AlertRule
from aggregates.services.alert_rules import AlertRules
from events.envelope import RecordedEvent
from events.position import Position
from events.store import EventStore
from handlers.declaration import HandlerRegistry, HandlerResult, handler
from handlers.worker import Worker
from tests.aggregates.conftest import rule_spec
from tests.handlers.support import FAST, running
from tests.polling import wait_until


async def test_the_log_holds_typed_events_at_their_notification_ids(
    rules: AlertRules, store: EventStore
) -> None:
    rule_id = rules.create(uuid4(), rule_spec())
    rules.pause(rule_id)
    log = store.names.notification_log(store.names.application_tag(rules.name))
    read = [recorded async for recorded in store.read_stream(log, strict=True)]
    assert [r.event.type for r in read] == ["alert_rule.created", "alert_rule.paused"]
    assert [r.position.seq for r in read] == [1, 2]
    created = read[0].event.payload
    assert isinstance(created, AlertRule.Created)
    assert created.spec.condition.type == "crosses_up"  # type: ignore[attr-defined]
    assert read[0].event.key == str(rule_id)
    assert read[1].event.version == 2
    assert read[1].event.correlation_id == read[1].event.event_id
    notes = rules.recorder.select_notifications(start=None, limit=10)
    assert [n.id for n in notes] == [r.position.seq for r in read]
    assert abs(Position(read[0].position.ms, 0).time - created.timestamp).total_seconds() < 5


async def test_a_handler_follows_the_log(rules: AlertRules, store: EventStore) -> None:
    seen: list[str] = []

    async def index_rules(recorded: RecordedEvent) -> HandlerResult:
        seen.append(recorded.event.type)
        return None

    registry = HandlerRegistry()
    tag = store.names.application_tag(rules.name)
    handler("rule-index", categories=["log"], tags=[tag], registry=registry)(index_rules)
    rule_id = rules.create(uuid4(), rule_spec())
    async with running(Worker(registry.get("rule-index"), store, FAST)):
        rules.pause(rule_id)
        rules.delete(rule_id)
        await wait_until(lambda: _seen(seen, 3))
    assert seen == ["alert_rule.created", "alert_rule.paused", "alert_rule.deleted"]


async def _seen(seen: list[str], count: int) -> bool:
    return len(seen) >= count
