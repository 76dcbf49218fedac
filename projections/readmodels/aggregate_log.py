"""Read models of one kind of aggregate, fed by its application's notification log.

Each such model has the same fold: the aggregate's creation event makes the document,
every other event it reads changes it in place through one function per type, and each
change stamps ``updated_at``. A subclass says only what is particular to it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from events.envelope import RecordedEvent
from events.names import StreamNames
from projections.model import Document, Projection

Change = Callable[[Document, dict[str, Any]], None]
"""Applies one event's data (its payload as JSON) to a document, in place."""


class AggregateLogProjection(Projection):
    """Set `application`, `created` and `changes`; implement `initial`."""

    categories: ClassVar[tuple[str, ...]] = ("log",)
    application: ClassVar[str]
    """The application whose log this reads (its service's `name`)."""
    created: ClassVar[str]
    """The type of the event that creates the aggregate."""
    changes: ClassVar[Mapping[str, Change]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "created", None):
            cls.tags = (StreamNames.application_tag(cls.application),)
            cls.types = frozenset({cls.created, *cls.changes})

    @abstractmethod
    def initial(self, data: dict[str, Any], occurred_at: datetime) -> Document:
        """The document the creation event makes."""

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        event = recorded.event
        data = event.payload.model_dump(mode="json")
        if event.type == self.created:
            document = self.initial(data, event.occurred_at)
        elif document is None:
            return None  # its creation is not here: nothing to change
        else:
            self.changes[event.type](document, data)
        document["updated_at"] = event.occurred_at
        return document
