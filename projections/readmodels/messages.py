"""Every conversation's transcript, one document per entry, in the order it happened.

Entries are the user's messages, the agent's tool calls and their results, and its
replies. Each is written once and never changed, so this read model inserts without
reading first. `seq` is the Conversation aggregate's version of the entry: it orders a
transcript, and with the conversation's id it makes the document's id.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from pymongo import ASCENDING, IndexModel

from events.envelope import RecordedEvent
from events.names import StreamNames
from projections.model import Document, Projection
from projections.registry import read_model

CONVERSATIONS_TAG = StreamNames.application_tag("conversations")

ROLES = {"user": "user", "tool_call": "tool_call", "tool_result": "tool_result", "reply": "agent"}
"""A turn's kind (`aggregates.conversation.Turn`) -> the entry's role."""


def message_id(conversation_id: str, seq: int) -> str:
    return f"{conversation_id}:{seq}"


def _entry(turn: dict[str, Any]) -> dict[str, Any]:
    """Role, text and ids of a turn: tool arguments and outputs as JSON text."""
    kind = turn["kind"]
    if kind == "user":
        return {"message_id": turn["message_id"], "text": turn["text"]}
    if kind == "reply":
        return {
            "message_id": turn["reply_id"],
            "in_reply_to": turn["in_reply_to"],
            "text": turn["text"],
        }
    if kind == "tool_call":
        return {
            "message_id": turn["call_id"],
            "in_reply_to": turn["in_reply_to"],
            "tool": turn["tool"],
            "text": orjson.dumps(turn["arguments"]).decode(),
        }
    error = turn.get("error")
    text = error if error is not None else orjson.dumps(turn.get("output")).decode()
    return {"message_id": turn["call_id"], "text": text, "error": error is not None}


@read_model()
class Messages(Projection):
    """One document per transcript entry."""

    name: ClassVar[str] = "messages"
    categories: ClassVar[tuple[str, ...]] = ("log",)
    tags: ClassVar[tuple[str, ...] | None] = (CONVERSATIONS_TAG,)
    types: ClassVar[frozenset[str] | None] = frozenset(
        {"conversation.turn_recorded", "conversation.replied"}
    )
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        IndexModel([("conversation_id", ASCENDING), ("seq", ASCENDING), ("_id", ASCENDING)]),
    )
    insert_only: ClassVar[bool] = True

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        return (message_id(recorded.event.key, recorded.event.version or 0),)

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        event = recorded.event
        data = event.payload.model_dump(mode="json")
        turn = data["turn"] if event.type == "conversation.turn_recorded" else data["reply"]
        return {
            "conversation_id": event.key,
            "seq": event.version,
            "role": ROLES[turn["kind"]],
            "at": event.occurred_at,
            "in_reply_to": None,
            "tool": None,
            "error": False,
            **_entry(turn),
        }
