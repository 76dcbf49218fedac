"""Which event caused what is being recorded now: a context an outer layer sets.

The API, a bot or a handler knows why a command runs (the user message, the tick); the
`eventsourcing` library does not. Setting this context around a command gives the
events it records that causation and correlation, so one chain can be read end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Cause:
    """The event that caused what is recorded now, and the chain it belongs to."""

    causation_id: UUID
    correlation_id: UUID


_current: ContextVar[Cause | None] = ContextVar("cause", default=None)


@contextmanager
def caused_by(causation_id: UUID, correlation_id: UUID) -> Iterator[None]:
    """Record events inside the block as caused by `causation_id`, in its chain."""
    token = _current.set(Cause(causation_id, correlation_id))
    try:
        yield
    finally:
        _current.reset(token)


def current_cause() -> Cause | None:
    """The cause set by the innermost `caused_by` block, if any."""
    return _current.get()
