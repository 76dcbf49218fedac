"""Applying a projection to a batch: one read, one bulk write, idempotent per document.

The bulk write is journaled (write concern ``j: true``, on top of whatever ``w`` the
client has): the runtime records the partition's checkpoint in Redis as soon as the
write is acknowledged, so an acknowledged write that a MongoDB crash could still lose
(the default ``j: false`` leaves up to 100 ms of them in memory on mongod, and all of
them on SecantusDB) would be missing from the read model for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from bson.errors import InvalidDocument
from pymongo import ReplaceOne, UpdateOne, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from events.envelope import RecordedEvent
from events.errors import DependencyUnavailableError, ImpressoxError
from handlers.outputs import InvalidOutputError
from projections.model import POSITION, Document, Projection, position_key

log = structlog.get_logger(__name__)

DUPLICATE_KEY = 11000
REFUSED_DOCUMENT = frozenset({2, 52, 10334, 17419, 17420})
"""Write errors no retry can mend: a bad value, a $-prefixed field name, a document too
large. The events that made such a document are dead-lettered at once
(`handlers.outputs`): a retried batch would make the same document."""


class ConflictingWriteError(ImpressoxError):
    """A document changed between our read and our write (another writer): retry."""


def journaled(collection: AsyncCollection[Document]) -> WriteConcern:
    """The collection's write concern, acknowledged only once in MongoDB's journal."""
    return WriteConcern(**{**collection.write_concern.document, "j": True})


class Projector:
    """The batch handler that keeps one projection's collection up to date."""

    def __init__(self, projection: Projection, collection: AsyncCollection[Document]) -> None:
        self.projection = projection
        self.collection = collection.with_options(write_concern=journaled(collection))

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
        touched: dict[str, list[RecordedEvent]] = {}
        for recorded in batch:
            for key in self.projection.keys(recorded):
                touched.setdefault(key, []).append(recorded)
        if touched:
            await self._write(touched)

    async def _write(self, touched: dict[str, list[RecordedEvent]]) -> None:
        if self.projection.insert_only:
            operations = self._inserts(touched)
        else:
            try:
                operations = await self.replacements(touched)
            except ConnectionFailure as error:
                raise DependencyUnavailableError(
                    f"MongoDB is unavailable: {error}", dependency="MongoDB"
                ) from None
        await self.submit(operations)

    async def submit(self, operations: list[Any]) -> None:
        """Write, telling a conflict or an outage apart from a failure of the batch."""
        if not operations:
            return
        try:
            await self.collection.bulk_write(operations, ordered=False)
        except BulkWriteError as error:
            codes = {item.get("code") for item in error.details.get("writeErrors", [])}
            if codes == {DUPLICATE_KEY}:
                raise ConflictingWriteError(
                    f"{len(error.details['writeErrors'])} documents of"
                    f" {self.collection.name} changed while the batch was applied"
                ) from None
            if codes & REFUSED_DOCUMENT:
                first = error.details["writeErrors"][0]
                raise self._refused(str(first.get("errmsg", first.get("code")))) from None
            raise
        except InvalidDocument as error:  # DocumentTooLarge too: refused before sending
            raise self._refused(str(error)) from None
        except ConnectionFailure as error:
            raise DependencyUnavailableError(
                f"MongoDB is unavailable: {error}", dependency="MongoDB"
            ) from None
        except PyMongoError as error:
            if error.has_error_label("RetryableWriteError"):
                raise DependencyUnavailableError(
                    f"MongoDB is unavailable: {error}", dependency="MongoDB"
                ) from None
            raise

    def _refused(self, reason: str) -> InvalidOutputError:
        kind = f"{self.collection.name} document"
        return InvalidOutputError(f"output {kind}: refused by MongoDB: {reason}", output_type=kind)

    def _inserts(self, touched: dict[str, list[RecordedEvent]]) -> list[Any]:
        operations: list[Any] = []
        for key, events in touched.items():
            document: Document | None = None
            for recorded in events:
                document = self.projection.apply(key, document, recorded) or document
            if document is not None:
                document[POSITION] = position_key(events[-1].position)
                document.pop("_id", None)
                operations.append(UpdateOne({"_id": key}, {"$setOnInsert": document}, upsert=True))
        return operations

    async def replacements(self, touched: dict[str, list[RecordedEvent]]) -> list[Any]:
        """Each touched document's replacement, conditional on the position it was read at."""
        current: dict[str, Document] = {
            document["_id"]: document
            async for document in self.collection.find({"_id": {"$in": list(touched)}})
        }
        operations: list[Any] = []
        for key, events in touched.items():
            document = current.get(key)
            read_at = document.get(POSITION) if document is not None else None
            changed = False
            for recorded in events:
                position = position_key(recorded.position)
                if document is not None and document.get(POSITION, "") >= position:
                    continue  # applied already: a replay or a redelivery
                after = self.projection.apply(key, document, recorded)
                if after is None:
                    continue
                after["_id"] = key
                after[POSITION] = position
                document, changed = after, True
            if changed and document is not None:
                operations.append(
                    ReplaceOne({"_id": key, POSITION: read_at}, document, upsert=True)
                )
        return operations
