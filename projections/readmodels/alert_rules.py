"""Alert rules by id, for their owners' lists: spec, status, how often they fired.

The status follows the AlertRule aggregate's lifecycle (active, paused, completed,
expired, deleted); a deleted rule keeps its document with that status, so a replayed
older event cannot bring it back. `subjects` lists what the rule watches (a symbol, a
keyword or account, a wallet or contract) so a list can be filtered by any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel

from projections.model import Document
from projections.readmodels.aggregate_log import AggregateLogProjection, Change
from projections.registry import read_model

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


def _status(status: str) -> Change:
    def change(document: Document, _: dict[str, Any]) -> None:
        document["status"] = status

    return change


CHANGES: dict[str, Change] = {
    "alert_rule.updated": _updated,
    "alert_rule.paused": _status("paused"),
    "alert_rule.resumed": _status("active"),
    "alert_rule.triggered": _triggered,
    "alert_rule.expired": _status("expired"),
    "alert_rule.deleted": _status("deleted"),
}


@read_model()
class AlertRules(AggregateLogProjection):
    """One document per rule."""

    name: ClassVar[str] = "alert_rules"
    application: ClassVar[str] = "alert_rules"
    created: ClassVar[str] = "alert_rule.created"
    changes: ClassVar[Mapping[str, Change]] = CHANGES
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

    def initial(self, data: dict[str, Any], occurred_at: datetime) -> Document:
        document: Document = {
            "owner_id": data["owner_id"],
            "status": "active",
            "trigger_count": 0,
            "last_triggered_at": None,
            "created_at": occurred_at,
        }
        _with_spec(document, data["spec"])
        return document
