"""Adding documents to the knowledge base and removing them, as events, each once.

Event ids are derived, so retries are no-ops: the n-th addition of a document (after n
removals) has the id ``uuid5(added, <key>, n)`` and its removal ``uuid5(removed, <key>,
n)``. Whether a document is present is then read from the partition's dedup index
alone: walk n up while both ids are stored; an addition without its removal is the
present one. No read model is needed, and a document removed can be added again.

Adding a present document with the same content is a duplicate (the first event's
receipt, ``duplicate`` true); with other content it is refused (`DocumentConflictError`):
the caller removes it first. Two different additions racing for one id cannot both
win: the loser's append is a duplicate of the winner's, which the content check sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid5

import structlog

from events.catalog.documents import DocumentAdded, DocumentRemoved, document_key
from events.envelope import Event
from events.names import StreamNames
from events.position import Position
from events.store import EventStore
from knowledge.errors import DocumentConflictError, DocumentNotFoundError

log = structlog.get_logger(__name__)

ID_NAMESPACE = UUID("0b6f3c55-2f8e-4a7c-9a51-6d3e2c1f7a90")
"""Fixed forever: derived event ids must not change between releases."""
CATEGORY = DocumentAdded.category


@dataclass(frozen=True, slots=True)
class DocumentReceipt:
    """Where a document's event is: pass ``<stream>@<position>`` on as ``after``."""

    document_id: str
    event_id: UUID
    stream: str
    position: Position
    duplicate: bool


@dataclass(frozen=True, slots=True)
class _State:
    """The document's generation, and the stream position of its addition if present."""

    generation: int
    present_at: Position | None


def added_id(key: str, generation: int) -> UUID:
    return uuid5(ID_NAMESPACE, f"{DocumentAdded.event_type}\n{key}\n{generation}")


def removed_id(key: str, generation: int) -> UUID:
    return uuid5(ID_NAMESPACE, f"{DocumentRemoved.event_type}\n{key}\n{generation}")


class DocumentLibrary:
    """The documents' side of the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def add(self, document: DocumentAdded) -> DocumentReceipt:
        """Append `document`'s addition unless it is present already (see the module)."""
        key = document.key
        state = await self._state(key)
        if state.present_at is not None:
            return await self._existing(document, state.present_at, added_id(key, state.generation))
        event = Event(event_id=added_id(key, state.generation), key=key, payload=document)
        result = await self._store.append(CATEGORY, event)
        if result.duplicate:  # a concurrent addition won the id
            return await self._existing(document, result.position, event.event_id)
        log.info(
            "document added",
            document_id=document.document_id,
            shared=document.owner is None,
            bytes=len(document.text.encode()),
        )
        return DocumentReceipt(
            document.document_id, event.event_id, result.stream, result.position, False
        )

    async def remove(
        self, owner: UUID | None, document_id: str, *, removed_by: UUID | None
    ) -> DocumentReceipt:
        """Append the removal of a present document; `DocumentNotFoundError` otherwise."""
        key = document_key(owner, document_id)
        state = await self._state(key)
        if state.present_at is None:
            raise DocumentNotFoundError(f"no document {document_id!r}")
        removal = DocumentRemoved(
            document_id=document_id, owner=owner, removed_by=removed_by, removed_at=_now()
        )
        event = Event(event_id=removed_id(key, state.generation), key=key, payload=removal)
        result = await self._store.append(CATEGORY, event)
        log.info("document removed", document_id=document_id, shared=owner is None)
        return DocumentReceipt(
            document_id, event.event_id, result.stream, result.position, result.duplicate
        )

    async def _state(self, key: str) -> _State:
        index = StreamNames.dedup_index(self._store.names.stream_for_key(CATEGORY, key))
        generation = 0
        while True:
            added, removed = await self._store.redis.hmget(
                index, [str(added_id(key, generation)), str(removed_id(key, generation))]
            )
            if added is None:
                return _State(generation, None)
            if removed is None:
                return _State(generation, Position.parse(added))
            generation += 1

    async def _existing(
        self, document: DocumentAdded, position: Position, event_id: UUID
    ) -> DocumentReceipt:
        stream = self._store.names.stream_for_key(CATEGORY, document.key)
        stored = None
        async for recorded in self._store.read_stream(stream, start=position, end=position):
            stored = recorded.event.payload
        if not isinstance(stored, DocumentAdded) or not stored.same_content(document):
            raise DocumentConflictError(
                f"document {document.document_id!r} exists with other content: remove it"
                " first to replace it"
            )
        return DocumentReceipt(document.document_id, event_id, stream, position, True)


def _now() -> datetime:
    return datetime.now(UTC)
