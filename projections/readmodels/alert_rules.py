"""Alert rules by id, for their owners' lists: spec, status, how often they fired.

The status follows the AlertRule aggregate's lifecycle (active, paused, completed,
expired, deleted); a deleted rule keeps its document with that status, so a replayed
older event cannot bring it back. `subjects` lists what the rule watches (a symbol, a
keyword or account, a wallet or contract) so a list can be filtered by any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel

from events.envelope import RecordedEvent
from events.names import StreamNames
from projections.model import Document, Projection
from projections.registry import read_model

ALERT_RULES_TAG = StreamNames.application_tag("alert_rules")

SUBJECT_FIELDS = ("symbol", "keyword", "account", "wallet", "contract")
"""The target fields that name what a rule watches."""


def subjects(spec: dict[str, Any]) -> list[str]:
    """What a rule's target watches, as the values a client filters by."""
    target = spec["target"]
    return [target[name] for name in SUBJECT_FIELDS if target.get(name)]


def _with_spec(document: Document, spec: dict[str, Any]) -> None:
    document["spec"] = spec
    document["subjects"] = subjects(spec)


def _updated(document: Document, data: dict[str, Any]) -> None:
    _with_spec(document, data["spec"])
    if document["status"] == "completed":  # a changed once-rule may fire again
        document["status"] = "active"


def _triggered(document: Document, data: dict[str, Any]) -> None:
    document["trigger_count"] += 1
    document["last_triggered_at"] = datetime.fromisoformat(data["trigger"]["observed_at"])
    if document["spec"]["frequency"]["kind"] == "once":
        document["status"] = "completed"


def _status(status: str) -> Callable[[Document, dict[str, Any]], None]:
    def change(document: Document, _: dict[str, Any]) -> None:
        document["status"] = status

    return change


CHANGES: dict[str, Callable[[Document, dict[str, Any]], None]] = {
    "alert_rule.updated": _updated,
    "alert_rule.paused": _status("paused"),
    "alert_rule.resumed": _status("active"),
    "alert_rule.triggered": _triggered,
    "alert_rule.expired": _status("expired"),
    "alert_rule.deleted": _status("deleted"),
}


@read_model()
class AlertRules(Projection):
    """One document per rule."""

    name: ClassVar[str] = "alert_rules"
    categories: ClassVar[tuple[str, ...]] = ("log",)
    tags: ClassVar[tuple[str, ...] | None] = (ALERT_RULES_TAG,)
    types: ClassVar[frozenset[str] | None] = frozenset({"alert_rule.created", *CHANGES})
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel(
            [
                ("owner_id", ASCENDING),
                ("status", ASCENDING),
                ("created_at", DESCENDING),
                ("_id", DESCENDING),
            ]
        ),
        IndexModel(
            [
                ("owner_id", ASCENDING),
                ("subjects", ASCENDING),
                ("created_at", DESCENDING),
                ("_id", DESCENDING),
            ]
        ),
    )

    def apply(
        self, key: str, document: Document | None, recorded: RecordedEvent
    ) -> Document | None:
        event = recorded.event
        data = event.payload.model_dump(mode="json")
        if event.type == "alert_rule.created":
            document = {
                "owner_id": data["owner_id"],
                "status": "active",
                "trigger_count": 0,
                "last_triggered_at": None,
                "created_at": event.occurred_at,
                "updated_at": event.occurred_at,
            }
            _with_spec(document, data["spec"])
            return document
        if document is None:
            return None
        CHANGES[event.type](document, data)
        document["updated_at"] = event.occurred_at
        return document
