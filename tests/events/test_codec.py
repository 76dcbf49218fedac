from __future__ import annotations

from typing import Any

import orjson
import pytest

from events.codec import FIELDS, decode, encode, from_json_object, to_json_object
from events.envelope import UnknownPayload
from events.errors import InvalidEventError, UnknownEventTypeError
from tests.factories import Pinged, ReadingTaken, ping


def entry(values: list[Any]) -> dict[bytes, bytes]:
    return {
        name.encode(): value if isinstance(value, bytes) else str(value).encode()
        for name, value in zip(FIELDS, values, strict=True)
    }


def test_an_entry_decodes_to_the_event_it_encodes() -> None:
    event = ping(7, text="héllo ✓", version=3)
    assert decode(entry(encode(event))) == event


def test_old_payload_versions_are_upcast_on_read() -> None:
    values = encode(ping())
    values[1], values[2], values[8] = "test.reading", "1", orjson.dumps({"value": 21.5})
    event = decode(entry(values))
    assert event.schema_version == 3
    assert event.payload == ReadingTaken(celsius=21.5, unit="C")


def test_unknown_types_are_refused_by_strict_readers_and_kept_by_lenient_ones() -> None:
    values = encode(ping())
    values[1] = "someone.elses"
    with pytest.raises(UnknownEventTypeError):
        decode(entry(values))
    kept = decode(entry(values), strict=False)
    assert isinstance(kept.payload, UnknownPayload)
    assert kept.payload.model_dump() == {"n": 1, "text": ""}


def test_lenient_readers_keep_payloads_that_are_not_json() -> None:
    values = encode(ping())
    values[1], values[8] = "someone.elses", b"\x00\xffencrypted"
    kept = decode(entry(values), strict=False)
    assert kept.payload.model_dump() == {"undecoded_base64": "AP9lbmNyeXB0ZWQ="}


def test_entries_in_another_format_are_refused_with_the_missing_field() -> None:
    with pytest.raises(InvalidEventError, match="'payload' is missing"):
        decode({b"event_id": b"x", b"type": b"test.ping", b"schema_version": b"1"})


def test_a_stored_payload_that_fails_validation_names_the_field() -> None:
    values = encode(ping())
    values[8] = orjson.dumps({"n": "not a number"})
    with pytest.raises(InvalidEventError, match=r"payload\.n"):
        decode(entry(values))


def test_json_objects_round_trip() -> None:
    event = ping(2, text="x")
    assert from_json_object(orjson.loads(orjson.dumps(to_json_object(event)))) == event


def test_json_events_need_only_type_key_and_payload() -> None:
    event = from_json_object({"type": "test.ping", "key": "k", "payload": {"n": 4}})
    assert event.payload == Pinged(n=4)
    assert event.correlation_id == event.event_id


def test_json_events_at_an_older_schema_version_are_upcast() -> None:
    event = from_json_object(
        {"type": "test.reading", "schema_version": 2, "key": "k", "payload": {"celsius": 3.0}}
    )
    assert event.payload == ReadingTaken(celsius=3.0, unit="C")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": "k", "payload": {}}, "type", "'type' is required"),
        ({"type": "no.such", "key": "k", "payload": {}}, "type", "unknown event type"),
        ({"type": "test.ping", "key": "k", "payload": {"n": "x"}}, "payload.n", "payload.n"),
        (
            {"type": "test.ping", "key": "k", "payload": {"n": 1, "extra": 1}},
            "payload.extra",
            "payload.extra",
        ),
        ({"type": "test.ping", "key": "", "payload": {"n": 1}}, "key", "key"),
        ({"type": "test.ping", "payload": {"n": 1}}, "key", "key"),
        ({"type": "test.ping", "key": "k", "payload": []}, "payload", "must be an object"),
        (
            {"type": "test.ping", "key": "k", "payload": {"n": 1}, "version": 0},
            "version",
            "version",
        ),
        (
            {"type": "test.reading", "schema_version": 9, "key": "k", "payload": {}},
            "schema_version",
            "newer",
        ),
        ("not an object", None, "JSON object"),
    ],
)
def test_invalid_json_events_name_the_field(data: Any, field: str | None, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message) as raised:
        from_json_object(data, index=4)
    assert raised.value.field == field
    assert raised.value.index == 4
    assert str(raised.value).startswith("event 4: ")
