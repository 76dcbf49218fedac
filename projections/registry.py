"""The projections a process knows, by name: ours and those of configured modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from events.errors import RegistryError
from projections.model import Projection

P = TypeVar("P", bound=type[Projection])


class ProjectionRegistry:
    def __init__(self) -> None:
        self._projections: dict[str, Projection] = {}

    def add(self, projection: Projection) -> None:
        existing = self._projections.get(projection.name)
        if existing is not None and type(existing) is not type(projection):
            raise RegistryError(f"a different projection named {projection.name!r} exists")
        self._projections[projection.name] = projection

    def get(self, name: str) -> Projection:
        try:
            return self._projections[name]
        except KeyError:
            known = ", ".join(sorted(self._projections)) or "none"
            raise RegistryError(f"no projection named {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._projections)

    def all(self) -> list[Projection]:
        return [self._projections[name] for name in self.names()]


PROJECTIONS = ProjectionRegistry()

READ_MODEL_MODULES: tuple[str, ...] = ("projections.readmodels",)
"""Our read models; importing the package registers every one of them."""


def read_model(registry: ProjectionRegistry = PROJECTIONS) -> Callable[[P], P]:
    """Register a projection class (one instance of it) under its name."""

    def register(cls: P) -> P:
        registry.add(cls())
        return cls

    return register
