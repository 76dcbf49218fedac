"""Validating commands where they enter: one error naming the field, or a model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from aggregates.errors import InvalidCommandError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def validated(model: type[M], data: M | Mapping[str, Any], *, field: str | None = None) -> M:
    """`data` as a `model`, or InvalidCommandError naming the first bad field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _refusal(error, data, field) from None


def validated_value(annotation: Any, value: Any, *, field: str) -> Any:
    """A single value checked against a type (``EvmAddress``, ``Symbol``...)."""
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError as error:
        raise _refusal(error, value, field) from None


def _refusal(error: ValidationError, data: Any, field: str | None) -> InvalidCommandError:
    first = error.errors(include_url=False)[0]
    path = field_path(first["loc"], data)
    if field:
        path = f"{field}.{path}" if path else field
    message = first["msg"].removeprefix("Value error, ")
    return InvalidCommandError(message, field=path or None)


def field_path(location: tuple[int | str, ...], data: Any) -> str:
    """A validation error's location as the field a person wrote.

    Pydantic puts the tag of a tagged union into the location (``condition.above.
    threshold``); the person wrote ``condition.threshold``, so tags are left out.
    """
    parts: list[str] = []
    node = data
    tagged: set[int] = set()
    for part in location:
        is_tag = isinstance(node, Mapping) and part in (node.get("kind"), node.get("type"))
        if is_tag and id(node) not in tagged:
            tagged.add(id(node))  # the tag comes once, before the fields it selects
            continue
        parts.append(str(part))
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list | tuple) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return ".".join(parts)
