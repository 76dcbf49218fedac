"""Users: identities, channels, quiet hours and API keys; no secret reaches a stream."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest
from redis.asyncio import Redis

from aggregates.channels import WebhookChannel
from aggregates.errors import DomainError, InvalidCommandError, NotFoundError, UserDeletedError
from aggregates.secrets import SecretBox, api_key_matches, split_api_key
from aggregates.services.users import Users
from events.names import StreamNames
from events.redis_client import entries


def test_register_with_an_identity(users: Users) -> None:
    user_id = users.register("Ada", {"platform": "telegram", "external_id": "12345"})
    user = users.load(user_id)
    assert user.display_name == "Ada"
    assert [(i.platform, i.external_id) for i in user.identities] == [("telegram", "12345")]
    assert list(user.channels) == ["web"]


@pytest.mark.parametrize(
    ("name", "identity", "field"),
    [
        ("", None, "display_name"),
        ("x" * 81, None, "display_name"),
        ("Ada", {"platform": "myspace", "external_id": "1"}, "identity.platform"),
        ("Ada", {"platform": "discord", "external_id": "has spaces"}, "identity.external_id"),
    ],
)
def test_invalid_registrations_are_refused(
    users: Users, name: str, identity: dict[str, str] | None, field: str
) -> None:
    with pytest.raises(InvalidCommandError) as refusal:
        users.register(name, identity)
    assert refusal.value.field == field


def test_one_identity_per_platform(users: Users) -> None:
    user_id = users.register("Ada")
    users.link_identity(user_id, {"platform": "discord", "external_id": "987654321098765432"})
    users.link_identity(user_id, {"platform": "discord", "external_id": "987654321098765432"})
    with pytest.raises(DomainError, match="a discord identity is linked already"):
        users.link_identity(user_id, {"platform": "discord", "external_id": "1"})
    users.unlink_identity(user_id, "discord")
    with pytest.raises(DomainError, match="no discord identity"):
        users.unlink_identity(user_id, "discord")


def test_channels_can_be_added_and_removed_but_not_the_web_one(users: Users) -> None:
    user_id = users.register("Ada")
    users.add_channel(
        user_id, {"channel_id": "phone", "channel": {"kind": "telegram", "chat_id": -100123}}
    )
    users.add_channel(
        user_id,
        {
            "channel_id": "desk",
            "channel": {"kind": "discord", "target": "dm", "id": "123456789012345678"},
        },
    )
    with pytest.raises(DomainError, match="exists already"):
        users.add_channel(
            user_id, {"channel_id": "phone", "channel": {"kind": "telegram", "chat_id": 1}}
        )
    users.remove_channel(user_id, "phone")
    assert sorted(users.load(user_id).channels) == ["desk", "web"]
    with pytest.raises(DomainError, match="cannot be removed"):
        users.remove_channel(user_id, "web")


def test_a_rule_s_channels_must_be_the_user_s(users: Users) -> None:
    user_id = users.register("Ada")
    users.add_channel(
        user_id, {"channel_id": "phone", "channel": {"kind": "telegram", "chat_id": -100123}}
    )
    assert users.require_channels(user_id, ["web", "phone"]) == {"web", "phone"}
    with pytest.raises(InvalidCommandError) as refusal:
        users.require_channels(user_id, ["web", "phone", "nosuch"])
    assert refusal.value.field == "channels.2"
    assert str(refusal.value) == (
        "channels.2: you have no channel 'nosuch' (yours: phone, web); add it first"
        " (POST /v1/channels)"
    )


@pytest.mark.parametrize(
    ("channel", "field", "message"),
    [
        ({"kind": "webhook", "url": "http://example.com/hook"}, "channel.url", "use https"),
        ({"kind": "webhook", "url": "https://10.0.0.1/hook"}, "channel.url", "not a public"),
        (
            {"kind": "webhook", "url": "https://user:pw@example.com/"},
            "channel.url",
            "no credentials",
        ),
        ({"kind": "webhook", "url": "ftp://example.com"}, "channel.url", "https:// URL"),
        ({"kind": "discord", "target": "dm", "id": "abc"}, "channel.id", "should match pattern"),
        (
            {"kind": "discord_webhook", "url": "https://evil.example/api/webhooks/1/x"},
            "channel.url",
            "pattern",
        ),
        ({"kind": "pigeon"}, "channel", "does not match any of the expected tags"),
    ],
)
def test_invalid_channels_are_refused(
    users: Users, channel: dict[str, str], field: str, message: str
) -> None:
    user_id = users.register("Ada")
    with pytest.raises(InvalidCommandError) as refusal:
        users.add_channel(user_id, {"channel_id": "bad", "channel": channel})
    assert refusal.value.field == field
    assert message in str(refusal.value)


async def test_secrets_are_sealed_hashed_and_shown_once(
    users: Users, secret_box: SecretBox, redis: Redis, names: StreamNames
) -> None:
    user_id = users.register("Ada")
    added = users.add_channel(
        user_id,
        {"channel_id": "hook", "channel": {"kind": "webhook", "url": "https://example.com/h"}},
    )
    discord_url = "https://discord.com/api/webhooks/123/very-secret-token"
    users.add_channel(
        user_id, {"channel_id": "disc", "channel": {"kind": "discord_webhook", "url": discord_url}}
    )
    issued = users.issue_api_key(user_id, {"name": "laptop", "scopes": ["user", "ingest"]})

    assert added.signing_secret
    channel = users.load(user_id).channels["hook"]
    assert isinstance(channel, WebhookChannel)
    assert users.open_secret(channel.secret) == added.signing_secret
    record = users.load(user_id).api_keys[issued.key_id]
    assert api_key_matches(issued.token, record.key_hash)
    assert record.scopes == ("ingest", "user")

    stored = await _everything_stored(redis, names)
    key_secret = split_api_key(issued.token)[1]  # may hold "_" itself
    for secret in (added.signing_secret, discord_url, issued.token, key_secret):
        assert secret.encode() not in stored
    view = users.view(user_id).state
    assert view["channels"]["hook"] == {"kind": "webhook", "url": "https://example.com/h"}
    assert view["channels"]["disc"] == {"kind": "discord_webhook"}
    assert "key_hash" not in view["api_keys"][issued.key_id]
    with pytest.raises(DomainError, match="sealed with another key"):
        Users(users.env, secret_box=SecretBox(SecretBox.new_key())).open_secret(channel.secret)


async def _everything_stored(redis: Redis, names: StreamNames) -> bytes:
    dump = b""
    async for key in redis.scan_iter(match=f"{names.prefix}:*"):
        if await redis.type(key) == b"stream":
            for _, fields in entries(await redis.xrange(key)):
                dump += b"".join(fields.values())
    return dump


def test_api_keys_are_listed_and_revoked(users: Users) -> None:
    user_id = users.register("Ada")
    issued = users.issue_api_key(user_id, {"name": "old"})
    kept = users.issue_api_key(user_id, {"name": "new", "scopes": ["admin"]})
    users.revoke_api_key(user_id, issued.key_id)
    assert [k.key_id for k in users.load(user_id).active_keys()] == [kept.key_id]
    listed = users.list_api_keys(user_id)
    assert [(k.name, k.scopes, k.revoked_at is not None) for k in listed] == [
        ("old", ("user",), True),
        ("new", ("admin",), False),
    ]
    with pytest.raises(DomainError, match="no API key"):
        users.revoke_api_key(user_id, "0000000000000000")
    with pytest.raises(InvalidCommandError, match=r"scopes\.0"):
        users.issue_api_key(user_id, {"name": "bad", "scopes": ["root"]})


def test_quiet_hours(users: Users) -> None:
    user_id: UUID = users.register("Ada")
    users.set_quiet_hours(user_id, {"start": "22:00", "end": "07:00", "timezone": "Europe/Paris"})
    assert users.load(user_id).quiet_hours is not None
    with pytest.raises(InvalidCommandError, match="unknown time zone"):
        users.set_quiet_hours(
            user_id, {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}
        )
    with pytest.raises(InvalidCommandError, match="same time"):
        users.set_quiet_hours(user_id, {"start": "22:00", "end": "22:00"})
    users.set_quiet_hours(user_id, None)
    assert users.load(user_id).quiet_hours is None


def test_deleting_a_user_revokes_its_keys_forgets_its_chats_and_refuses_commands(
    users: Users,
) -> None:
    user_id = users.register("Ada", {"platform": "telegram", "external_id": "12345"})
    users.add_channel(
        user_id, {"channel_id": "phone", "channel": {"kind": "telegram", "chat_id": -100123}}
    )
    users.set_alert_channel(user_id, "phone", True)
    first = users.issue_api_key(user_id, {"name": "laptop"})
    users.issue_api_key(user_id, {"name": "phone"})
    users.revoke_api_key(user_id, first.key_id)
    code = users.issue_link_code(user_id)

    assert users.delete(user_id) is not None
    user = users.load(user_id)
    assert user.deleted
    assert user.active_keys() == []
    assert (user.identities, list(user.channels), user.alert_channels) == ([], ["web"], [])
    types = [type(event).__name__ for event in users.history(user_id)]
    assert types[-2:] == ["ApiKeyRevoked", "Deleted"]  # only the key still active
    assert types.count("ApiKeyRevoked") == 2

    refusals: list[Callable[[], object]] = [
        lambda: users.rename(user_id, "Bea"),
        lambda: users.issue_api_key(user_id, {"name": "again"}),
        lambda: users.link_identity(user_id, {"platform": "discord", "external_id": "1"}),
        lambda: users.require_channels(user_id, []),
        lambda: users.alert_channels(user_id),
        lambda: users.list_api_keys(user_id),
        lambda: users.issue_link_code(user_id),
    ]
    for command in refusals:
        with pytest.raises(UserDeletedError, match=f"user {user_id} was deleted"):
            command()
    assert users.redeem_link_code(code.code) is None  # its codes link nothing any more
    assert users.delete(user_id) is None  # deleting again changes nothing
    assert len(users.history(user_id)) == len(types)
    with pytest.raises(NotFoundError):
        users.delete(uuid4())
    users.view(user_id)  # its history can still be read
