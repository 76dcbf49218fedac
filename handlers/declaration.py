"""Declaring handlers: the `@handler` decorator and the registry `impressox worker` reads.

A handler is an async function (or a class with an async `handle` method) that receives
one recorded event and returns the events it causes, each with the category to append it
to. The runtime appends them in the same partition as the input, together with the
handler's tracking position and the acknowledgement, in one atomic step.

::

    @handler("pricer", categories=["ticks"], types=[TickObserved])
    async def price_alerts(recorded: RecordedEvent) -> list[Output]:
        tick = recorded.event
        return [Output("alerts", tick.caused(AlertTriggered(...)))]
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, cast, runtime_checkable

from events.envelope import Event, Payload, RecordedEvent
from events.errors import RegistryError
from events.names import check_category, check_group
from events.store import EventStore


@dataclass(frozen=True, slots=True)
class Output:
    """An event a handler caused, and the category it belongs in."""

    category: str
    event: Event


HandlerResult = Iterable[Output] | None


class Handler(Protocol):
    """What the runtime calls for each entry. Raise to fail the attempt (it is retried).

    A handler holding state per partition or resources may also define
    ``partition_stopped(tag)`` (called when this process stops handling a partition:
    handed over, lease lost or failed) and ``async aclose()`` (called once, at shutdown).
    """

    async def handle(self, recorded: RecordedEvent) -> HandlerResult: ...


@runtime_checkable
class BatchHandler(Protocol):
    """A handler that takes a whole batch at once and causes no events (a projector).

    Writing a batch in one round trip is what makes projections fast. If a batch fails,
    the runtime retries its entries one at a time (each as a batch of one), so a poison
    entry is retried and dead-lettered alone while the rest go through.
    """

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None: ...


@dataclass(frozen=True)
class HandlerContext:
    """What every handler may use besides its input: the store, for reads.

    A handler that needs more (application services, clients, its area's configuration)
    declares a subclass holding exactly that (``@handler(..., context=RulesContext)``),
    and the composition root builds it once per process and hands it in: no handler
    builds its own clients or reads the settings.
    """

    store: EventStore


HandlerFunction = Callable[[RecordedEvent], Awaitable[HandlerResult]]
HandlerFactory = Callable[[HandlerContext], Handler | BatchHandler]


@dataclass(frozen=True)
class HandlerSpec:
    """A declared handler: its name is also its consumer group's name."""

    name: str
    categories: tuple[str, ...]
    types: frozenset[str] | None
    factory: HandlerFactory
    start_from: Literal["beginning", "end"] = "beginning"
    tags: tuple[str, ...] | None = None
    """Hash tags to read instead of the partitions, e.g. an application's ``app.users``."""
    context: type[HandlerContext] = HandlerContext
    """The context its factory takes: what the composition root builds for it."""


class _FunctionHandler:
    def __init__(self, function: HandlerFunction) -> None:
        self._function = function

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        return await self._function(recorded)


class HandlerRegistry:
    """Handlers by name."""

    def __init__(self) -> None:
        self._specs: dict[str, HandlerSpec] = {}

    def add(self, spec: HandlerSpec) -> None:
        existing = self._specs.get(spec.name)
        if existing is not None and existing != spec:
            raise RegistryError(f"a different handler named {spec.name!r} is already registered")
        self._specs[spec.name] = spec

    def get(self, name: str) -> HandlerSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise RegistryError(f"no handler named {name!r} (registered: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._specs)


HANDLERS = HandlerRegistry()
"""The process-wide registry the decorator writes to."""


T = TypeVar("T", HandlerFunction, type)


def handler(
    name: str,
    *,
    categories: Sequence[str],
    types: Iterable[type[Payload] | str] | None = None,
    start_from: Literal["beginning", "end"] = "beginning",
    tags: Sequence[str] | None = None,
    context: type[HandlerContext] = HandlerContext,
    registry: HandlerRegistry = HANDLERS,
) -> Callable[[T], T]:
    """Declare a handler consuming `types` (all types when None) from `categories`.

    Categories are read in every partition, or in the hash `tags` given: an application's
    notification log is category ``log`` in its tag (`StreamNames.application_tag`).
    Decorate an async function taking a `RecordedEvent`, or a class whose constructor
    takes its `context` (a `HandlerContext`, or the subclass naming what it uses) and
    which has an async `handle` method (or, if it causes no events, `handle_batch`: see
    `BatchHandler`).
    """
    check_group(name)
    if not categories:
        raise RegistryError(f"handler {name!r} must consume at least one category")
    for category in categories:
        check_category(category)
    type_names = None if types is None else frozenset(_type_name(t) for t in types)

    def declare(target: T) -> T:
        registry.add(
            HandlerSpec(
                name=name,
                categories=tuple(categories),
                types=type_names,
                factory=_factory(name, target),
                start_from=start_from,
                tags=tuple(tags) if tags is not None else None,
                context=context,
            )
        )
        return target

    return declare


def _type_name(declared: type[Payload] | str) -> str:
    if isinstance(declared, str):
        return declared
    if not declared.event_type:
        raise RegistryError(f"{declared.__name__} is not a registered event type")
    return declared.event_type


def _factory(name: str, target: HandlerFunction | type) -> HandlerFactory:
    if inspect.isclass(target):
        if not any(
            inspect.iscoroutinefunction(getattr(target, method, None))
            for method in ("handle", "handle_batch")
        ):
            raise RegistryError(
                f"handler class {name!r} needs an async handle() or handle_batch() method"
            )
        return cast(HandlerFactory, target)
    if not inspect.iscoroutinefunction(target):
        raise RegistryError(f"handler {name!r} must be an async function")
    function = target
    return lambda _context: _FunctionHandler(function)


def load_modules(modules: Iterable[str]) -> None:
    """Import `modules`, so their declarations register (the composition root names
    ours and the configured ones: `impressox.modules`)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise RegistryError(
                f"invalid setting IMPRESSOX_MODULES: cannot import {module!r}: {error}"
            ) from None
