"""Checking what a handler causes before it is committed: nothing is appended that its
readers could not decode.

Whatever a handler appends is read by every handler of its category, and by anything
that reads the stream for another reason (a starting rule engine recovers its firings
from the alerts). An output those readers refuse is dead-lettered by each of them, and
a reader that must go past it fails on it every time: one user's bad rule once fired a
20 MB alert that stopped every user's alerts on its partition. Handlers build outputs
quickly (the rules handler skips validation on its hot path with `model_construct`), so
the runtime checks each output the way its readers will decode it, before the commit:

1. its type is registered in this process, and the payload is of that type;
2. its key is 1 to 256 characters (as `Event` requires);
3. the whole entry is at most `MAX_OUTPUT_BYTES` (checked first: a huge payload is not
   worth validating);
4. the payload's JSON validates against its type's model, as strict readers decode it.

A failing output raises `InvalidOutputError`, naming the output's type and the failing
field. The runtime dead-letters the input at once with that error (the handler would
make the same output again: retrying cannot help) and the partition moves on.
Handlers that write elsewhere (a projector's documents) raise it for an output their
sink refuses for good, with the same effect.
"""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from events.codec import encode
from events.envelope import Event
from events.errors import ImpressoxError
from events.registry import PayloadRegistry

MAX_OUTPUT_BYTES = 1024 * 1024
"""The largest stream entry a handler may append: far above any event we make (an alert
message holds 4000 characters), far below what would hurt a reader."""
MAX_KEY_CHARS = 256

EncodedFields = list[str | bytes]


class InvalidOutputError(ImpressoxError):
    """An output of a handler that its readers could not take; its input is
    dead-lettered at once. `output_type` and `field` say which and where."""

    def __init__(self, message: str, *, output_type: str, field: str | None = None) -> None:
        super().__init__(message)
        self.output_type = output_type
        self.field = field


def encoded_output(event: Event, registry: PayloadRegistry) -> EncodedFields:
    """`event`'s stream entry, once it is known to be one its readers can decode."""
    type_name = event.type
    model = registry.lookup(type_name)
    if model is None or not isinstance(event.payload, model):
        raise InvalidOutputError(
            f"output {type_name!r}: not the registered type of its payload"
            f" ({type(event.payload).__name__})",
            output_type=type_name,
            field="type",
        )
    if not 1 <= len(event.key) <= MAX_KEY_CHARS:
        raise InvalidOutputError(
            f"output {type_name}: key: {len(event.key)} characters, not 1 to {MAX_KEY_CHARS}",
            output_type=type_name,
            field="key",
        )
    fields = encode(event, warnings=False)  # a wrong value is refused below, by name
    payload = fields[-1]
    assert isinstance(payload, bytes)
    size = sum(len(value) for value in fields)
    if size > MAX_OUTPUT_BYTES:
        field, field_size = _largest_field(payload)
        raise InvalidOutputError(
            f"output {type_name}: {field}: {field_size:,} bytes; the entry would be"
            f" {size:,} bytes, more than the {MAX_OUTPUT_BYTES:,} a handler may append",
            output_type=type_name,
            field=field,
        )
    try:
        model.model_validate_json(payload)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        path = ".".join(("payload", *(str(part) for part in first["loc"])))
        raise InvalidOutputError(
            f"output {type_name}: {path}: {first['msg']}", output_type=type_name, field=path
        ) from None
    return fields


def _largest_field(payload: bytes) -> tuple[str, int]:
    """The payload's biggest top-level field, as ``payload.<name>``, and its JSON size."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return "payload", len(payload)
    if not isinstance(data, dict) or not data:
        return "payload", len(payload)
    sizes = {name: len(orjson.dumps(value)) for name, value in data.items()}
    name = max(sizes, key=sizes.__getitem__)
    return f"payload.{name}", sizes[name]
