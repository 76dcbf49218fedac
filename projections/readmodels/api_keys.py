"""API keys by key id, for operators' queries: the owner, scopes, hash, revocation.

Only the hash of a key is recorded anywhere (the User aggregate keeps the same). The
API does not authenticate against this read model but against the key table in Redis
(`api.key_table`), so that keys work while MongoDB is away; this one keeps what that
table drops, the revoked keys and when they were revoked.
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
        data = recorded.event.payload.model_dump()
        return (data["record"]["key_id"] if "record" in data else data["key_id"],)

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        data = recorded.event.payload.model_dump()
        if "record" in data:  # issued
            record = data["record"]
            return {
                "user_id": str(data["originator_id"]),
                "name": record["name"],
                "key_hash": record["key_hash"],
                "scopes": list(record["scopes"]),
                "issued_at": record["issued_at"],
                "revoked_at": None,
            }
        if document is None:
            return None
        document["revoked_at"] = data["at"]
        return document
