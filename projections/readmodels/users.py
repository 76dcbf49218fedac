"""Users by id, as their owners and the notifier see them: no secret ever.

A channel keeps its kind and its public fields only: a webhook's signing secret and a
Discord webhook's URL (it holds a token) stay sealed in the User aggregate. Public fields
are listed per kind, so a secret field added to a channel later stays out by default.
API keys are not here either: `api_keys` lists them (and the API authenticates against
the key table in Redis, `api.key_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pymongo import IndexModel

from aggregates.channels import WEB_CHANNEL_ID
from projections.model import Document
from projections.readmodels.aggregate_log import AggregateLogProjection, Change
from projections.registry import read_model

PUBLIC_CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    "web": (),
    "telegram": ("chat_id",),
    "discord": ("target", "id"),
    "discord_webhook": (),
    "webhook": ("url",),
}
"""What of each kind of channel a person may see (and the notifier may route by)."""
CHATS = "chats"
"""The Telegram chats and Discord targets among a user's channels, as `chat_key`s: the
bots find who wrote to them by this field (one index), not by scanning channels."""


def chat_key(kind: str, chat: object) -> str:
    """``telegram:<chat id>`` or ``discord:<channel or user id>``."""
    return f"{kind}:{chat}"


def _chats(channels: dict[str, dict[str, Any]]) -> list[str]:
    keys = [
        chat_key(channel["kind"], channel["chat_id" if channel["kind"] == "telegram" else "id"])
        for channel in channels.values()
        if channel["kind"] in ("telegram", "discord")
    ]
    return sorted(set(keys))


def public_channel(channel: dict[str, Any]) -> dict[str, Any]:
    """A channel as stored in an event, reduced to its kind and public fields."""
    kind = channel["kind"]
    return {"kind": kind, **{name: channel[name] for name in PUBLIC_CHANNEL_FIELDS.get(kind, ())}}


def _renamed(document: Document, data: dict[str, Any]) -> None:
    document["display_name"] = data["display_name"]


def _identity_linked(document: Document, data: dict[str, Any]) -> None:
    document["identities"].append(data["identity"])


def _identity_unlinked(document: Document, data: dict[str, Any]) -> None:
    platform = data["platform"]
    document["identities"] = [i for i in document["identities"] if i["platform"] != platform]


def _channel_added(document: Document, data: dict[str, Any]) -> None:
    document["channels"][data["channel_id"]] = public_channel(data["channel"])
    document[CHATS] = _chats(document["channels"])


def _channel_removed(document: Document, data: dict[str, Any]) -> None:
    document["channels"].pop(data["channel_id"], None)
    document[CHATS] = _chats(document["channels"])
    alert_channels = document.get("alert_channels", [])
    document["alert_channels"] = [c for c in alert_channels if c != data["channel_id"]]


def _alert_channels_set(document: Document, data: dict[str, Any]) -> None:
    document["alert_channels"] = data["alert_channels"]


def _quiet_hours_set(document: Document, data: dict[str, Any]) -> None:
    document["quiet_hours"] = data["quiet_hours"]


def _deleted(document: Document, data: dict[str, Any]) -> None:
    """A deleted user stays, marked deleted, with nothing that reaches them: no identity,
    no chat (so the bots no longer find them), no channel but the web."""
    document["deleted_at"] = data["at"]
    document["identities"] = []
    document["channels"] = {WEB_CHANNEL_ID: {"kind": "web"}}
    document[CHATS] = []
    document["alert_channels"] = []


CHANGES: dict[str, Change] = {
    "user.renamed": _renamed,
    "user.identity_linked": _identity_linked,
    "user.identity_unlinked": _identity_unlinked,
    "user.channel_added": _channel_added,
    "user.channel_removed": _channel_removed,
    "user.quiet_hours_set": _quiet_hours_set,
    "user.alert_channels_set": _alert_channels_set,
    "user.deleted": _deleted,
}


@read_model()
class Users(AggregateLogProjection):
    """One document per user: display name, identities, channels, quiet hours; a deleted
    user's keeps its name and `deleted_at`, and nothing else that reaches them."""

    name: ClassVar[str] = "users"
    application: ClassVar[str] = "users"
    created: ClassVar[str] = "user.registered"
    changes: ClassVar[Mapping[str, Change]] = CHANGES
    indexes: ClassVar[tuple[IndexModel, ...]] = (IndexModel([(CHATS, 1)]),)

    def initial(self, data: dict[str, Any], occurred_at: datetime) -> Document:
        return {
            "display_name": data["display_name"],
            "identities": data["identities"],
            "channels": {WEB_CHANNEL_ID: {"kind": "web"}},  # every user has it from the start
            CHATS: [],
            "quiet_hours": None,
            "alert_channels": [],
            "registered_at": occurred_at,
            "deleted_at": None,
        }
