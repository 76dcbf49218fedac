"""What a read model is: the events it reads and how each one changes its documents.

A projection is a fold. For every event it names the documents the event touches
(`keys`) and computes each one's next state (`apply`). The projector runs the fold for a
whole batch in memory and writes each touched document once, so a batch of a thousand
ticks of one symbol costs one write, and it records on every document the position of
the last event applied, so an event at or before that position changes nothing: a
replayed or redelivered batch leaves the documents as they were.

Every document is fed by one stream (the partition its key routes to), which is what
makes one position per document enough.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

from pymongo import IndexModel

from events.envelope import RecordedEvent
from events.names import check_category, check_group
from events.position import Position

Document = dict[str, Any]

POSITION = "_pos"
"""The field holding the position of the last event applied to a document."""


def position_key(position: Position) -> str:
    """A position as a string that sorts like the position (zero-padded halves)."""
    return f"{position.ms:015d}-{position.seq:020d}"


class Projection(ABC):
    """A read model. Subclass, set the class attributes, implement `apply`."""

    name: ClassVar[str]
    """Also the stem of its collections and consumer groups: lowercase, digits, '_'."""
    categories: ClassVar[tuple[str, ...]]
    tags: ClassVar[tuple[str, ...] | None] = None
    """Hash tags to read instead of partitions: an application's log (``app.users``)."""
    types: ClassVar[frozenset[str] | None] = None
    """Event types it reads; None for all. Others are acknowledged unread."""
    indexes: ClassVar[tuple[IndexModel, ...]] = ()
    """Indexes for every query the API makes on it."""
    insert_only: ClassVar[bool] = False
    """Each event creates documents and never changes one: no read before writing."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "name", None):
            check_group(cls.name)
            for category in cls.categories:
                check_category(category)

    def keys(self, recorded: RecordedEvent) -> Iterable[str]:
        """The ids of the documents `recorded` changes (by default: the event's key)."""
        return (recorded.event.key,)

    @abstractmethod
    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        """Document `key` after `recorded` (None: the event does not change it).

        `document` is None for a document that does not exist yet. It may be changed in
        place and returned. Deleting is a state too (``status: "deleted"``), not a
        removal, so a replayed older event cannot bring a document back.
        """
