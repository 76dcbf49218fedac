"""Turning events into stream entries and back, and into JSON for people and clients.

A stream entry has the same nine fields, in the same order, whoever wrote it. Keeping
the field set identical lets Redis store the field names once per stream node, so a
readable name costs nothing per entry.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from events.envelope import Event, Payload, UnknownPayload
from events.errors import InvalidEventError, UnknownEventTypeError, UpcastError
from events.registry import REGISTRY, PayloadRegistry

FIELDS: tuple[str, ...] = (
    "event_id",
    "type",
    "schema_version",
    "key",
    "version",
    "occurred_at",
    "causation_id",
    "correlation_id",
    "payload",
)
"""Stream entry field names, in the order every entry stores them."""

EVENT_ID, TYPE, SCHEMA_VERSION, KEY, VERSION, OCCURRED_AT, CAUSATION_ID, CORRELATION_ID, PAYLOAD = (
    name.encode() for name in FIELDS
)

EntryFields = Mapping[bytes, bytes]


def encode(event: Event, *, warnings: bool = True) -> list[str | bytes]:
    """The values of `event`'s stream entry, in `FIELDS` order.

    `warnings=False` keeps pydantic quiet about values of the wrong type, for a caller
    that validates the result itself (`handlers.outputs`)."""
    payload = event.payload
    return [
        str(event.event_id),
        event.type,
        str(event.schema_version),
        event.key,
        "" if event.version is None else str(event.version),
        event.occurred_at.isoformat(),
        "" if event.causation_id is None else str(event.causation_id),
        str(event.correlation_id),
        payload.__pydantic_serializer__.to_json(payload, warnings=warnings),
    ]


def decode(
    fields: EntryFields, registry: PayloadRegistry = REGISTRY, *, strict: bool = True
) -> Event:
    """Rebuild the event stored in a stream entry, upcasting an older payload.

    Strict decoding (handlers) refuses types this process does not know; lenient
    decoding (debugging tools) keeps their payload as an `UnknownPayload`.
    """
    try:
        type_name = fields[TYPE].decode()
        stored_version = int(fields[SCHEMA_VERSION])
        raw_payload = fields[PAYLOAD]
        payload, schema_version = _decode_payload(
            type_name, stored_version, raw_payload, registry, strict=strict
        )
        version = fields[VERSION]
        causation = fields[CAUSATION_ID]
        return Event.model_construct(
            event_id=UUID(fields[EVENT_ID].decode()),
            type=type_name,
            schema_version=schema_version,
            key=fields[KEY].decode(),
            version=int(version) if version else None,
            occurred_at=datetime.fromisoformat(fields[OCCURRED_AT].decode()),
            causation_id=UUID(causation.decode()) if causation else None,
            correlation_id=UUID(fields[CORRELATION_ID].decode()),
            payload=payload,
        )
    except KeyError as missing:
        raise InvalidEventError(
            f"entry is not in the Impressox format: field {missing.args[0]!r} is missing"
        ) from None
    except ValueError as bad:
        if isinstance(bad, ValidationError):
            raise _invalid(bad, prefix="payload") from None
        raise InvalidEventError(f"entry is not in the Impressox format: {bad}") from None


def _decode_payload(
    type_name: str,
    stored_version: int,
    raw: bytes,
    registry: PayloadRegistry,
    *,
    strict: bool,
) -> tuple[Payload, int]:
    model = registry.lookup(type_name)
    if model is None:
        if strict:
            raise UnknownEventTypeError(f"unknown event type {type_name!r}", field="type")
        return _kept_as_stored(raw), stored_version
    if stored_version == model.schema_version:
        return model.model_validate_json(raw), stored_version
    lifted = registry.upcast(type_name, stored_version, orjson.loads(raw))
    return model.model_validate(lifted), model.schema_version


def _kept_as_stored(raw: bytes) -> UnknownPayload:
    """A payload this process cannot model, kept readable: its JSON, or (when it is not
    JSON, e.g. encrypted by the eventsourcing library's cipher) its bytes in base64."""
    try:
        return UnknownPayload.model_validate_json(raw)
    except ValidationError:
        return UnknownPayload.model_validate({"undecoded_base64": base64.b64encode(raw).decode()})


def to_json_object(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict, the shape the CLI prints and ingest accepts."""
    return event.model_dump(mode="json")


def from_json_object(
    data: Any, registry: PayloadRegistry = REGISTRY, *, index: int | None = None
) -> Event:
    """Validate an event given as JSON (CLI input, API ingest) into an `Event`.

    The payload is validated against the type's current model; a payload at an older
    `schema_version` is upcast first. Errors name the offending field.
    """
    if not isinstance(data, Mapping):
        raise InvalidEventError("an event must be a JSON object", index=index)
    fields = dict(data)
    type_name = fields.get("type")
    if not isinstance(type_name, str) or not type_name:
        raise InvalidEventError("field 'type' is required", field="type", index=index)
    try:
        model = registry.model(type_name)
        payload_data = fields.get("payload", {})
        if not isinstance(payload_data, Mapping):
            raise InvalidEventError(
                "field 'payload' must be an object", field="payload", index=index
            )
        version = fields.get("schema_version") or model.schema_version
        if not isinstance(version, int):
            raise InvalidEventError(
                "field 'schema_version' must be an integer", field="schema_version", index=index
            )
        fields["payload"] = model.model_validate(
            registry.upcast(type_name, version, dict(payload_data))
        )
        fields["schema_version"] = model.schema_version
        return Event.model_validate(fields)
    except UnknownEventTypeError as unknown:
        raise UnknownEventTypeError(str(unknown), field="type", index=index) from None
    except UpcastError as error:
        raise InvalidEventError(str(error), field="schema_version", index=index) from None
    except ValidationError as error:
        prefix = "payload" if error.title != Event.__name__ else None
        raise _invalid(error, prefix=prefix, index=index) from None


def _invalid(
    error: ValidationError, *, prefix: str | None, index: int | None = None
) -> InvalidEventError:
    """One line naming the first bad field, e.g. ``payload.price: Input should be > 0``."""
    first = error.errors(include_url=False)[0]
    path = ".".join(str(part) for part in first["loc"])
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    more = len(error.errors()) - 1
    suffix = f" (and {more} more)" if more else ""
    return InvalidEventError(
        f"{path or 'event'}: {first['msg']}{suffix}", field=path or None, index=index
    )
