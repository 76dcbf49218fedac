"""Users: registration, identities, channels, quiet hours and API keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import EnvType
from pydantic import Field

from aggregates.channels import (
    DISCORD_WEBHOOK_URL,
    WEB_CHANNEL_ID,
    Channel,
    ChannelId,
    DiscordChannel,
    DiscordWebhookChannel,
    Identity,
    Platform,
    TelegramChannel,
    WebhookChannel,
    WebhookUrl,
)
from aggregates.destinations import DestinationPolicy, RefusedDestinationError
from aggregates.errors import DomainError, InvalidCommandError
from aggregates.link_code import LinkCode, code_hash, link_code_id, new_code
from aggregates.model import Immutable
from aggregates.secrets import (
    SealedSecret,
    SecretBox,
    hash_api_key,
    new_api_key,
    new_signing_secret,
)
from aggregates.services.base import Service
from aggregates.user import MAX_ACTIVE_KEYS, ApiKeyRecord, QuietHours, Scope, User
from aggregates.validation import validated, validated_value

DisplayName = Annotated[str, Field(min_length=1, max_length=80)]
KeyName = Annotated[str, Field(min_length=1, max_length=80)]


class DiscordWebhookSpec(Immutable):
    kind: Literal["discord_webhook"] = "discord_webhook"
    url: str = Field(pattern=DISCORD_WEBHOOK_URL.pattern)


class WebhookSpec(Immutable):
    kind: Literal["webhook"] = "webhook"
    url: WebhookUrl


ChannelSpec = Annotated[
    TelegramChannel | DiscordChannel | DiscordWebhookSpec | WebhookSpec,
    Field(discriminator="kind"),
]
"""A channel as a caller gives it: as stored, but with secrets in clear, to be sealed."""


class ChannelRequest(Immutable):
    """A channel to add, as a caller gives it (secrets in clear, sealed before storing)."""

    channel_id: ChannelId
    channel: ChannelSpec


class AddedChannel(Immutable):
    channel_id: str
    signing_secret: str | None = None
    """A webhook channel's signing secret: shown this once, sealed afterwards."""


class IssuedKey(Immutable):
    key_id: str
    token: str
    """The key itself: shown this once; only its hash is kept."""
    scopes: tuple[Scope, ...]


class KeyInfo(Immutable):
    """An API key as its owner may see it: everything but the key and its hash."""

    key_id: str
    name: str
    scopes: tuple[Scope, ...]
    issued_at: datetime
    revoked_at: datetime | None


class KeyRequest(Immutable):
    name: KeyName
    scopes: tuple[Scope, ...] = Field(default=("user",), min_length=1)


class IssuedLinkCode(Immutable):
    code: str
    """Send ``/link <code>`` to the Telegram or Discord bot; it works once."""
    expires_at: datetime


LINK_CODE_TTL = timedelta(minutes=10)


class Users(Service[User]):
    """Users and everything attached to them."""

    name = "users"
    kind = "user"
    aggregate_class = User
    env: ClassVar[dict[str, str]] = dict(Service.env)

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        secret_box: SecretBox,
        max_api_keys: int = MAX_ACTIVE_KEYS,
        destinations: DestinationPolicy | None = None,
    ) -> None:
        super().__init__(env)
        self.secret_box = secret_box
        self.max_api_keys = max_api_keys
        """Active API keys one user may hold."""
        self.destinations = destinations or DestinationPolicy()
        """Where webhook channels may point (public addresses unless the operator allows
        more)."""

    def register(
        self, display_name: str, identity: Identity | Mapping[str, Any] | None = None
    ) -> UUID:
        name = validated_value(DisplayName, display_name, field="display_name")
        identities = [validated(Identity, identity, field="identity")] if identity else []
        user = User(display_name=name, identities=identities)
        self.commit(user)
        return user.id

    def live(self, user_id: UUID) -> User:
        """The user, unless unknown or deleted (both NotFoundError; `UserDeletedError`
        says which)."""
        user: User = self.load(user_id)
        user.refuse_if_deleted()
        return user

    def change(self, aggregate_id: UUID, change: Callable[[User], object]) -> int | None:
        """As for any aggregate, but a deleted user is refused before the command runs."""

        def guarded(user: User) -> object:
            user.refuse_if_deleted()
            return change(user)

        return super().change(aggregate_id, guarded)

    def delete(self, user_id: UUID) -> int | None:
        """Delete the user (see `User.delete`): the notification id of its last event, or
        None if the user was deleted already (deleting again changes nothing). Unknown:
        NotFoundError."""
        user: User = self.load(user_id)
        user.delete(datetime.now(UTC))
        return self.commit(user)

    def rename(self, user_id: UUID, display_name: str) -> None:
        name = validated_value(DisplayName, display_name, field="display_name")
        self.change(user_id, lambda user: user.rename(name))

    def link_identity(self, user_id: UUID, identity: Identity | Mapping[str, Any]) -> None:
        linked = validated(Identity, identity, field="identity")
        self.change(user_id, lambda user: user.link_identity(linked))

    def unlink_identity(self, user_id: UUID, platform: Platform) -> None:
        self.change(user_id, lambda user: user.unlink_identity(platform))

    def add_channel(
        self, user_id: UUID, request: ChannelRequest | Mapping[str, Any]
    ) -> AddedChannel:
        wanted = validated(ChannelRequest, request)
        if isinstance(wanted.channel, WebhookSpec):
            self._check_destination(wanted.channel.url)
        channel, secret = self._seal(wanted.channel)
        self.change(user_id, lambda user: user.add_channel(wanted.channel_id, channel))
        return AddedChannel(channel_id=wanted.channel_id, signing_secret=secret)

    def remove_channel(self, user_id: UUID, channel_id: str) -> None:
        self.change(user_id, lambda user: user.remove_channel(channel_id))

    def require_channels(self, user_id: UUID, channel_ids: Sequence[str]) -> frozenset[str]:
        """The user's channel ids, once every one of `channel_ids` is among them.

        A rule naming a channel its owner does not have would be found out only when it
        fires, at delivery: it is refused where it is made instead, naming the channel
        (``channels.1``).
        """
        user = self.live(user_id)
        known = frozenset(user.channels)
        for index, channel_id in enumerate(channel_ids):
            if channel_id not in known:
                raise InvalidCommandError(
                    f"you have no channel {channel_id!r} (yours: {', '.join(sorted(known))});"
                    " add it first (POST /v1/channels)",
                    field=f"channels.{index}",
                )
        return known

    def set_alert_channel(self, user_id: UUID, channel_id: str, on: bool) -> None:
        self.change(user_id, lambda user: user.set_alert_channel(channel_id, on))

    def alert_channels(self, user_id: UUID) -> list[str]:
        """Where alerts the agent creates go: the web, then the chats turned on."""
        user = self.live(user_id)
        return [WEB_CHANNEL_ID, *user.alert_channels]

    def issue_link_code(self, user_id: UUID, ttl: timedelta = LINK_CODE_TTL) -> IssuedLinkCode:
        """A one-time code linking a chat identity to the user (only its hash is kept)."""
        self.live(user_id)  # the user exists, and was not deleted
        code = new_code()
        hashed = code_hash(code)
        assert hashed is not None
        expires_at = datetime.now(UTC) + ttl
        self.commit(LinkCode(code_hash=hashed, user_id=user_id, expires_at=expires_at))
        return IssuedLinkCode(code=code, expires_at=expires_at)

    def redeem_link_code(self, code: str) -> UUID | None:
        """The user a code was issued to, the first time it is redeemed before it
        expires; None for an unknown, used or expired code (which one is not said)."""
        hashed = code_hash(code)
        if hashed is None:
            return None
        try:
            link: LinkCode = self.repository.get(link_code_id(hashed))
            user_id = link.redeem(datetime.now(UTC))
            self.live(user_id)  # a deleted user's codes link nothing
            self.commit(link)
        except (AggregateNotFoundError, DomainError):  # a lost race is a used code
            return None
        return user_id

    def set_quiet_hours(self, user_id: UUID, quiet: QuietHours | Mapping[str, Any] | None) -> None:
        hours = validated(QuietHours, quiet, field="quiet_hours") if quiet is not None else None
        self.change(user_id, lambda user: user.set_quiet_hours(hours))

    def issue_api_key(self, user_id: UUID, request: KeyRequest | Mapping[str, Any]) -> IssuedKey:
        wanted = validated(KeyRequest, request)
        key_id, token = new_api_key()
        record = ApiKeyRecord(
            key_id=key_id,
            name=wanted.name,
            key_hash=hash_api_key(token),
            scopes=tuple(sorted(set(wanted.scopes))),
            issued_at=datetime.now(UTC),
        )
        self.change(user_id, lambda user: user.issue_api_key(record, max_active=self.max_api_keys))
        return IssuedKey(key_id=key_id, token=token, scopes=record.scopes)

    def list_api_keys(self, user_id: UUID) -> list[KeyInfo]:
        """The user's API keys, revoked ones included, oldest first."""
        records = sorted(self.live(user_id).api_keys.values(), key=lambda record: record.issued_at)
        return [
            KeyInfo.model_validate(record.model_dump(exclude={"key_hash"})) for record in records
        ]

    def revoke_api_key(self, user_id: UUID, key_id: str) -> None:
        self.change(user_id, lambda user: user.revoke_api_key(key_id, datetime.now(UTC)))

    def open_secret(self, sealed: SealedSecret) -> str:
        """A sealed channel secret in clear, for the one component that signs with it."""
        try:
            return self.secret_box.open(sealed)
        except ValueError:
            raise DomainError(
                "the secret was sealed with another key (IMPRESSOX_SECRET_KEY changed?)"
            ) from None

    def _check_destination(self, url: str) -> None:
        """Refuse a webhook the server must not call for a user (see
        `aggregates.destinations`); the notifier checks again on every connection."""
        try:
            self.destinations.check_url(url)
        except RefusedDestinationError as refused:
            raise InvalidCommandError(str(refused), field="channel.url") from None

    def _seal(
        self, spec: TelegramChannel | DiscordChannel | DiscordWebhookSpec | WebhookSpec
    ) -> tuple[Channel, str | None]:
        if isinstance(spec, TelegramChannel | DiscordChannel):
            return spec, None  # nothing secret to seal
        if isinstance(spec, DiscordWebhookSpec):
            return DiscordWebhookChannel(url=self.secret_box.seal(spec.url)), None
        secret = new_signing_secret()
        return WebhookChannel(url=spec.url, secret=self.secret_box.seal(secret)), secret
