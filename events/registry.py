"""Payload types registered by name and schema version, and upcasters between versions.

A stream is the system of record for years; the shape of a payload will change. Each
type name has one current model; older stored versions are lifted on read by upcasters,
one version step at a time, so old entries never need rewriting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from events.envelope import Payload
from events.errors import RegistryError, UnknownEventTypeError, UpcastError

P = TypeVar("P", bound=type[Payload])
PayloadData = dict[str, Any]
Upcaster = Callable[[PayloadData], PayloadData]

_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class PayloadRegistry:
    """Maps type names to payload models, and (name, version) to upcasters."""

    def __init__(self) -> None:
        self._models: dict[str, type[Payload]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: type[Payload], name: str, version: int) -> None:
        """Make `model` the current schema of type `name`."""
        if not _TYPE_NAME.match(name):
            raise RegistryError(
                f"invalid event type {name!r}: use dotted lowercase names like 'price.tick'"
            )
        if version < 1:
            raise RegistryError(f"schema version of {name!r} must be 1 or more")
        existing = self._models.get(name)
        if existing is not None and existing.__qualname__ != model.__qualname__:
            raise RegistryError(
                f"event type {name!r} is already registered to {existing.__qualname__}"
            )
        model.event_type = name
        model.schema_version = version
        self._models[name] = model

    def add_upcaster(self, name: str, from_version: int, upcaster: Upcaster) -> None:
        """Register the step that lifts `name` payloads from `from_version` to the next."""
        step = (name, from_version)
        if step in self._upcasters and self._upcasters[step] is not upcaster:
            raise RegistryError(f"an upcaster for {name!r} v{from_version} already exists")
        self._upcasters[step] = upcaster

    def lookup(self, name: str) -> type[Payload] | None:
        """The current model of `name`, or None when this process does not know it."""
        return self._models.get(name)

    def model(self, name: str) -> type[Payload]:
        """The current model of `name`; an unknown name is a caller's error."""
        model = self._models.get(name)
        if model is None:
            raise UnknownEventTypeError(f"unknown event type {name!r}", field="type")
        return model

    def upcast(self, name: str, version: int, data: PayloadData) -> PayloadData:
        """Lift a stored payload of `name` from `version` to the current version."""
        current = self.model(name).schema_version
        if version > current:
            raise UpcastError(
                f"{name!r} payload is at schema v{version}, newer than this process knows"
                f" (v{current}); upgrade this process"
            )
        while version < current:
            step = self._upcasters.get((name, version))
            if step is None:
                raise UpcastError(
                    f"no upcaster registered for {name!r} v{version} -> v{version + 1}"
                )
            data = step(data)
            version += 1
        return data

    def names(self) -> list[str]:
        """Every registered type name, sorted."""
        return sorted(self._models)


REGISTRY = PayloadRegistry()
"""The process-wide registry the decorators below write to."""


def event_type(
    name: str, version: int = 1, *, registry: PayloadRegistry = REGISTRY
) -> Callable[[P], P]:
    """Register a payload model as the current schema of event type `name`.

    ::

        @event_type("price.tick", version=2)
        class TickObserved(Payload):
            symbol: str
            price: float
    """

    def register(model: P) -> P:
        registry.register(model, name, version)
        return model

    return register


def upcaster(
    name: str, from_version: int, *, registry: PayloadRegistry = REGISTRY
) -> Callable[[Upcaster], Upcaster]:
    """Register a function that lifts a stored `name` payload from `from_version` by one."""

    def register(step: Upcaster) -> Upcaster:
        registry.add_upcaster(name, from_version, step)
        return step

    return register
