"""Conversations by id, for a user's list: platform, thread, size and latest activity.

`message_count` counts every entry of the transcript (the `messages` read model):
user messages, tool calls and results, and replies.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel

from events.envelope import RecordedEvent
from events.names import StreamNames
from projections.model import Document, Projection
from projections.registry import read_model

CONVERSATIONS_TAG = StreamNames.application_tag("conversations")


@read_model()
class Conversations(Projection):
    """One document per conversation (one per user, platform and thread)."""

    name: ClassVar[str] = "conversations"
    categories: ClassVar[tuple[str, ...]] = ("log",)
    tags: ClassVar[tuple[str, ...] | None] = (CONVERSATIONS_TAG,)
    types: ClassVar[frozenset[str] | None] = frozenset(
        {"conversation.started", "conversation.turn_recorded", "conversation.replied"}
    )
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        IndexModel([("user_id", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)]),
    )

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        event = recorded.event
        data = event.payload.model_dump(mode="json")
        if event.type == "conversation.started":
            return {
                "user_id": data["user_id"],
                "platform": data["platform"],
                "thread_id": data["thread_id"],
                "started_at": event.occurred_at,
                "message_count": 0,
                "last_message_at": event.occurred_at,
                "input_tokens": 0,
                "output_tokens": 0,
            }
        if document is None:
            return None
        document["message_count"] += 1
        document["last_message_at"] = event.occurred_at
        usage = data["reply"].get("usage") if event.type == "conversation.replied" else None
        if usage is not None:
            document["input_tokens"] += usage["input_tokens"]
            document["output_tokens"] += usage["output_tokens"]
        return document
