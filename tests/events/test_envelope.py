from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from pydantic import ValidationError

from events.codec import from_json_object, to_json_object
from events.envelope import Event, Payload
from tests.factories import Pinged, Ponged, ping


def test_type_and_schema_version_come_from_the_payload() -> None:
    event = ping(3)
    assert event.type == "test.ping"
    assert event.schema_version == 1


def test_a_root_event_correlates_to_itself() -> None:
    event = ping()
    assert event.correlation_id == event.event_id
    assert event.causation_id is None


def test_caused_events_carry_the_chain() -> None:
    root = ping(1)
    child = root.caused(Ponged(n=1))
    grandchild = child.caused(Ponged(n=2), key="other")
    assert child.causation_id == root.event_id
    assert grandchild.causation_id == child.event_id
    assert grandchild.correlation_id == root.event_id
    assert child.key == root.key
    assert grandchild.key == "other"


def test_occurred_at_is_kept_in_utc() -> None:
    local = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    event = ping(occurred_at=local)
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at == local


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        ping(occurred_at=datetime(2026, 1, 1))


def test_an_unregistered_payload_class_is_refused() -> None:
    class Unregistered(Payload):
        x: int

    with pytest.raises(ValidationError, match="not registered"):
        Event(payload=Unregistered(x=1), key="k")


def test_a_type_that_contradicts_the_payload_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not match"):
        Event(payload=Pinged(n=1), key="k", type="test.pong")


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="key"):
        Event(payload=Pinged(n=1), key="")


def test_explicit_ids_are_kept() -> None:
    event_id, correlation = uuid4(), uuid4()
    event = ping(event_id=event_id, correlation_id=correlation, occurred_at=datetime.now(UTC))
    assert (event.event_id, event.correlation_id) == (event_id, correlation)


def test_caused_events_are_as_valid_as_constructed_ones() -> None:
    root = ping(1)
    child = root.caused(Ponged(n=1))
    assert from_json_object(to_json_object(child)) == child
    assert child.type == "test.pong"
    assert child.occurred_at.utcoffset() == timedelta(0)


def test_caused_events_still_refuse_bad_keys() -> None:
    with pytest.raises(ValidationError, match="key"):
        ping(1).caused(Ponged(n=1), key="")
    with pytest.raises(ValidationError, match="key"):
        ping(1).caused(Ponged(n=1), key="k" * 257)
