"""A user: display name, linked identities, notification channels, quiet hours, API keys."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import event
from pydantic import Field, field_validator

from aggregates.channels import (
    WEB_CHANNEL_ID,
    Channel,
    DiscordWebhookChannel,
    Identity,
    WebChannel,
    WebhookChannel,
)
from aggregates.errors import DomainError, NotFoundError, UserDeletedError
from aggregates.model import (
    Aggregate,
    AggregateSnapshot,
    Immutable,
    SnapshotState,
    register_aggregate,
)

Scope = Literal["user", "admin", "ingest"]


class QuietHours(Immutable):
    """Hold deliveries from `start` to `end` (local time in `timezone`; may wrap midnight)."""

    start: time
    end: time
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use IANA names like Europe/Paris)"
            ) from None
        return value

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: time, info: Any) -> time:
        if info.data.get("start") == value:
            raise ValueError("quiet hours must not start and end at the same time")
        return value


MAX_ACTIVE_KEYS = 20
"""Active API keys a user may hold unless configured otherwise (IMPRESSOX_MAX_API_KEYS_PER_USER)."""


class ApiKeyRecord(Immutable):
    """What we keep of an API key: never the key, only its hash."""

    key_id: str
    name: str
    key_hash: str
    scopes: tuple[Scope, ...]
    issued_at: datetime
    revoked_at: datetime | None = None


class UserState(SnapshotState):
    display_name: str
    identities: list[Identity]
    channels: dict[str, Channel]
    quiet_hours: QuietHours | None
    api_keys: dict[str, ApiKeyRecord]
    alert_channels: list[str] = Field(default_factory=list)
    deleted_at: datetime | None = None


class User(Aggregate):
    """Someone who uses Impressox, on any number of platforms."""

    class Snapshot(AggregateSnapshot):
        state: UserState

    @event("Registered")
    def __init__(self, display_name: str, identities: list[Identity]) -> None:
        self.display_name = display_name
        self.identities = list(identities)
        self.channels: dict[str, Channel] = {WEB_CHANNEL_ID: WebChannel()}
        self.quiet_hours: QuietHours | None = None
        self.api_keys: dict[str, ApiKeyRecord] = {}
        self.alert_channels: list[str] = []
        """Chats that alerts the agent creates go to, besides the web (``/notify_on``)."""
        self.deleted_at: datetime | None = None
        """When the user was deleted: every command is refused from then on."""

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def refuse_if_deleted(self) -> None:
        """Refuse anything on a deleted user (404: the user is gone)."""
        if self.deleted_at is not None:
            raise UserDeletedError(f"user {self.id} was deleted")

    # -- commands -----------------------------------------------------------------------

    def delete(self, at: datetime) -> bool:
        """Delete the user: revoke every active key (the same `ApiKeyRevoked` events a
        revocation records, so the API refuses them and closes their sockets as for any
        revocation), then record `Deleted`, which forgets identities, chat channels and
        alert channels. False, and nothing recorded, if the user was deleted already."""
        if self.deleted_at is not None:
            return False
        for record in self.active_keys():
            self._api_key_revoked(record.key_id, at)
        self._deleted(at)
        return True

    def rename(self, display_name: str) -> None:
        self.refuse_if_deleted()
        if display_name != self.display_name:
            self._renamed(display_name)

    def link_identity(self, identity: Identity) -> None:
        self.refuse_if_deleted()
        if identity in self.identities:
            return
        if any(known.platform == identity.platform for known in self.identities):
            raise DomainError(f"a {identity.platform} identity is linked already; unlink it first")
        self._identity_linked(identity)

    def unlink_identity(self, platform: str) -> None:
        self.refuse_if_deleted()
        if not any(known.platform == platform for known in self.identities):
            raise NotFoundError(f"no {platform} identity is linked")
        self._identity_unlinked(platform)

    def add_channel(self, channel_id: str, channel: Channel) -> None:
        self.refuse_if_deleted()
        if channel_id in self.channels:
            raise DomainError(f"channel {channel_id!r} exists already")
        self._channel_added(channel_id, channel)

    def remove_channel(self, channel_id: str) -> None:
        self.refuse_if_deleted()
        if channel_id == WEB_CHANNEL_ID:
            raise DomainError("the web channel cannot be removed")
        if channel_id not in self.channels:
            raise NotFoundError(f"no channel {channel_id!r}")
        self._channel_removed(channel_id)

    def set_alert_channel(self, channel_id: str, on: bool) -> None:
        """Send alerts created from now on to this channel too (or no longer)."""
        self.refuse_if_deleted()
        if on and channel_id not in self.channels:
            raise NotFoundError(f"no channel {channel_id!r}")
        wanted = [c for c in self.alert_channels if c != channel_id] + ([channel_id] if on else [])
        if wanted != self.alert_channels:
            self._alert_channels_set(wanted)

    def set_quiet_hours(self, quiet_hours: QuietHours | None) -> None:
        self.refuse_if_deleted()
        if quiet_hours != self.quiet_hours:
            self._quiet_hours_set(quiet_hours)

    def issue_api_key(self, record: ApiKeyRecord, *, max_active: int) -> None:
        """Issue a key, unless the user holds `max_active` unrevoked keys already: each
        key would otherwise be one more rate limit bucket (issue 13)."""
        self.refuse_if_deleted()
        if record.key_id in self.api_keys:
            raise DomainError(f"API key {record.key_id} exists already")
        if len(self.active_keys()) >= max_active:
            raise DomainError(
                f"a user holds at most {max_active} active API keys; revoke one first"
            )
        self._api_key_issued(record)

    def revoke_api_key(self, key_id: str, at: datetime) -> None:
        self.refuse_if_deleted()
        record = self.api_keys.get(key_id)
        if record is None:
            raise NotFoundError(f"no API key {key_id}")
        if record.revoked_at is None:
            self._api_key_revoked(key_id, at)

    def active_keys(self) -> list[ApiKeyRecord]:
        return [record for record in self.api_keys.values() if record.revoked_at is None]

    def public_state(self) -> dict[str, Any]:
        """Everything but secrets: no key hashes, no sealed secrets or webhook URLs."""
        state = super().public_state()
        state["channels"] = {
            channel_id: {"kind": channel.kind, **_public_channel(channel)}
            for channel_id, channel in self.channels.items()
        }
        state["api_keys"] = {
            key_id: record.model_dump(exclude={"key_hash"})
            for key_id, record in self.api_keys.items()
        }
        return state

    # -- events -------------------------------------------------------------------------

    @event("Renamed")
    def _renamed(self, display_name: str) -> None:
        self.display_name = display_name

    @event("IdentityLinked")
    def _identity_linked(self, identity: Identity) -> None:
        self.identities.append(identity)

    @event("IdentityUnlinked")
    def _identity_unlinked(self, platform: str) -> None:
        self.identities = [known for known in self.identities if known.platform != platform]

    @event("ChannelAdded")
    def _channel_added(self, channel_id: str, channel: Channel) -> None:
        self.channels[channel_id] = channel

    @event("ChannelRemoved")
    def _channel_removed(self, channel_id: str) -> None:
        del self.channels[channel_id]
        self.alert_channels = [c for c in self.alert_channels if c != channel_id]

    @event("AlertChannelsSet")
    def _alert_channels_set(self, alert_channels: list[str]) -> None:
        self.alert_channels = alert_channels

    @event("QuietHoursSet")
    def _quiet_hours_set(self, quiet_hours: QuietHours | None) -> None:
        self.quiet_hours = quiet_hours

    @event("ApiKeyIssued")
    def _api_key_issued(self, record: ApiKeyRecord) -> None:
        self.api_keys[record.key_id] = record

    @event("ApiKeyRevoked")
    def _api_key_revoked(self, key_id: str, at: datetime) -> None:
        self.api_keys[key_id] = self.api_keys[key_id].model_copy(update={"revoked_at": at})

    @event("Deleted")
    def _deleted(self, at: datetime) -> None:
        self.deleted_at = at
        self.identities = []
        self.channels = {WEB_CHANNEL_ID: WebChannel()}
        self.alert_channels = []


def _public_channel(channel: Channel) -> dict[str, Any]:
    if isinstance(channel, WebhookChannel):
        return {"url": channel.url}
    if isinstance(channel, DiscordWebhookChannel):
        return {}
    return channel.model_dump(exclude={"kind"})


register_aggregate(User, "user")
