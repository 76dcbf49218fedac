"""Each user's watch list: the wallets, social accounts and keywords they follow.

The document's id is the Watch aggregate's, which is derived from the user's id
(`aggregates.watch.watch_id`), so a user's list is found without an index.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from projections.model import Document
from projections.readmodels.aggregate_log import AggregateLogProjection, Change
from projections.registry import read_model


def _wallet_watched(document: Document, data: dict[str, Any]) -> None:
    document["wallets"].append(data["wallet"])


def _wallet_unwatched(document: Document, data: dict[str, Any]) -> None:
    address = data["address"]
    document["wallets"] = [w for w in document["wallets"] if w["address"] != address]


def _account_followed(document: Document, data: dict[str, Any]) -> None:
    document["accounts"].append(data["account"])


def _account_unfollowed(document: Document, data: dict[str, Any]) -> None:
    document["accounts"] = [a for a in document["accounts"] if a != data["account"]]


def _keyword_followed(document: Document, data: dict[str, Any]) -> None:
    document["keywords"].append(data["keyword"])


def _keyword_unfollowed(document: Document, data: dict[str, Any]) -> None:
    document["keywords"] = [k for k in document["keywords"] if k != data["keyword"]]


CHANGES: dict[str, Change] = {
    "watch.wallet_watched": _wallet_watched,
    "watch.wallet_unwatched": _wallet_unwatched,
    "watch.account_followed": _account_followed,
    "watch.account_unfollowed": _account_unfollowed,
    "watch.keyword_followed": _keyword_followed,
    "watch.keyword_unfollowed": _keyword_unfollowed,
}


@read_model()
class Watches(AggregateLogProjection):
    """One document per user's watch list, in the order things were followed."""

    name: ClassVar[str] = "watches"
    application: ClassVar[str] = "watches"
    created: ClassVar[str] = "watch.opened"
    changes: ClassVar[Mapping[str, Change]] = CHANGES

    def initial(self, data: dict[str, Any], occurred_at: datetime) -> Document:
        return {"user_id": data["user_id"], "wallets": [], "accounts": [], "keywords": []}
