"""API keys by key id, for authenticating requests: the owner, scopes, hash, revocation.

Only the hash of a key is recorded anywhere (the User aggregate keeps the same); this
read model is what the API looks a presented key up in.
"""

from __future__ import annotations

from typing import ClassVar

from events.envelope import RecordedEvent
from events.names import StreamNames
from projections.model import Document, Projection
from projections.registry import read_model

USERS_TAG = StreamNames.application_tag("users")


@read_model()
class ApiKeys(Projection):
    name: ClassVar[str] = "api_keys"
    categories: ClassVar[tuple[str, ...]] = ("log",)
    tags: ClassVar[tuple[str, ...] | None] = (USERS_TAG,)
    types: ClassVar[frozenset[str] | None] = frozenset(
        {"user.api_key_issued", "user.api_key_revoked"}
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        payload = recorded.event.payload
        key_id = getattr(payload, "record", None)
        return (key_id.key_id if key_id is not None else payload.key_id,)  # type: ignore[attr-defined]

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        payload = recorded.event.payload
        if recorded.event.type == "user.api_key_issued":
            record = payload.record  # type: ignore[attr-defined]
            return {
                "user_id": str(payload.originator_id),  # type: ignore[attr-defined]
                "name": record.name,
                "key_hash": record.key_hash,
                "scopes": list(record.scopes),
                "issued_at": record.issued_at,
                "revoked_at": None,
            }
        if document is None:
            return None
        document["revoked_at"] = payload.at  # type: ignore[attr-defined]
        return document
