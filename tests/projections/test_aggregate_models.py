"""Read models of the aggregates' logs: their documents, no secrets, idempotent replays."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from aggregates.conversation import conversation_id
from aggregates.services.bundle import Services
from aggregates.watch import watch_id
from events.envelope import RecordedEvent
from events.names import StreamNames
from events.store import EventStore
from impressox.services import build_services
from projections.model import POSITION, Document, Projection
from projections.projector import Projector
from projections.readmodels.alert_rules import AlertRules
from projections.readmodels.conversations import Conversations
from projections.readmodels.messages import Messages
from projections.readmodels.users import Users
from projections.readmodels.watches import Watches
from tests import readside

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture
def services(prefix: str, tmp_path: Path, redis_url: str) -> Iterator[Services]:
    built = build_services(readside.isolated_settings(prefix, tmp_path), redis_url)
    yield built
    built.close()


@pytest.fixture
async def database(mongo_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"db_{prefix}"]
    await client.drop_database(f"db_{prefix}")
    await client.close()


async def log_of(
    store: EventStore, application: str, projection: Projection
) -> list[RecordedEvent]:
    """The application's log as the runtime hands it to `projection` (its types only)."""
    stream = store.names.notification_log(StreamNames.application_tag(application))
    return [
        recorded
        async for recorded in store.read_stream(stream)
        if projection.types is None or recorded.event.type in projection.types
    ]


async def replayed(
    projection: Projection, events: list[RecordedEvent], database: AsyncDatabase[Document]
) -> dict[str, Document]:
    """The documents after the whole log, and (checked) the same after replays of it."""
    once = Projector(projection, database[f"{projection.name}_once"])
    await once.handle_batch(events)
    documents = await _documents(database, f"{projection.name}_once")
    await once.handle_batch(events)
    assert await _documents(database, f"{projection.name}_once") == documents
    half = len(events) // 2
    split = Projector(projection, database[f"{projection.name}_split"])
    for batch in (events[:half], events[: half + 1], events, events[half:]):
        await split.handle_batch(batch)
    assert await _documents(database, f"{projection.name}_split") == documents
    return documents


async def _documents(database: AsyncDatabase[Document], name: str) -> dict[str, Document]:
    return {document["_id"]: document async for document in database[name].find()}


async def test_users_show_profiles_and_channels_without_secrets(
    services: Services, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    users = services.users
    user = users.register("Ada", {"platform": "telegram", "external_id": "42"})
    users.rename(user, "Ada L.")
    users.link_identity(user, {"platform": "discord", "external_id": "ada.1"})
    users.unlink_identity(user, "telegram")
    users.add_channel(user, {"channel_id": "tg", "channel": {"kind": "telegram", "chat_id": -100}})
    hook_url = "https://example.com/hook"
    secret = users.add_channel(
        user, {"channel_id": "hook", "channel": {"kind": "webhook", "url": hook_url}}
    ).signing_secret
    discord_url = "https://discord.com/api/webhooks/123/token-part"
    users.add_channel(
        user, {"channel_id": "dw", "channel": {"kind": "discord_webhook", "url": discord_url}}
    )
    users.add_channel(
        user,
        {"channel_id": "dm", "channel": {"kind": "discord", "target": "dm", "id": "1" * 18}},
    )
    users.remove_channel(user, "dm")
    users.set_quiet_hours(user, {"start": "22:00", "end": "07:00", "timezone": "Europe/Paris"})
    token = users.issue_api_key(user, {"name": "k"}).token
    other = users.register("Bob")

    documents = await replayed(Users(), await log_of(store, "users", Users()), database)

    document = documents[str(user)]
    assert document["display_name"] == "Ada L."
    assert document["identities"] == [{"platform": "discord", "external_id": "ada.1"}]
    assert document["channels"] == {
        "web": {"kind": "web"},
        "tg": {"kind": "telegram", "chat_id": -100},
        "hook": {"kind": "webhook", "url": hook_url},
        "dw": {"kind": "discord_webhook"},
    }
    assert document["quiet_hours"] == {
        "start": "22:00:00",
        "end": "07:00:00",
        "timezone": "Europe/Paris",
    }
    assert documents[str(other)]["channels"] == {"web": {"kind": "web"}}
    text = repr(documents)
    assert secret is not None
    for leaked in (secret, discord_url, "token-part", token, "key_hash", "sealed", "secret"):
        assert leaked not in text


async def test_a_deleted_user_is_marked_and_keeps_no_chat(
    services: Services, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    users = services.users
    user = users.register("Ada", {"platform": "telegram", "external_id": "42"})
    users.add_channel(user, {"channel_id": "tg", "channel": {"kind": "telegram", "chat_id": -100}})
    users.set_alert_channel(user, "tg", True)
    users.issue_api_key(user, {"name": "k"})
    users.delete(user)
    kept = users.register("Bob")

    documents = await replayed(Users(), await log_of(store, "users", Users()), database)

    document = documents[str(user)]
    assert document["display_name"] == "Ada"
    assert document["deleted_at"] is not None
    assert document["identities"] == []
    assert document["channels"] == {"web": {"kind": "web"}}
    assert (document["chats"], document["alert_channels"]) == ([], [])
    assert documents[str(kept)]["deleted_at"] is None


async def test_alert_rules_follow_the_lifecycle(
    services: Services, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    rules = services.alert_rules
    owner = uuid4()
    spec: dict[str, Any] = {
        "target": {"kind": "symbol", "symbol": "BTC/USDT"},
        "condition": {"type": "above", "threshold": 100_000},
        "frequency": {"kind": "once"},
        "channels": ["web"],
    }
    once = rules.create(owner, spec)
    rules.pause(once)
    rules.resume(once)
    fired_at = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    rules.record_trigger(
        once,
        {
            "source_event_id": uuid4(),
            "source_stream": "ix:{p1}:ticks",
            "source_position": "1-1",
            "observed_at": fired_at,
            "value": 100_001.0,
        },
    )
    watching_posts = rules.create(
        owner,
        {
            "target": {"kind": "posts", "keyword": "$SOL", "account": "@toly"},
            "condition": {"type": "mentioned"},
            "channels": ["web"],
        },
    )
    rules.update(watching_posts, {**spec, "name": "changed"})
    rules.delete(watching_posts)
    expiring = rules.create(owner, {**spec, "expires_at": datetime.now(UTC) + timedelta(0, 1)})
    rules.expire(expiring, datetime.now(UTC) + timedelta(seconds=2))

    documents = await replayed(
        AlertRules(), await log_of(store, "alert_rules", AlertRules()), database
    )

    fired = documents[str(once)]
    assert (fired["status"], fired["trigger_count"]) == ("completed", 1)
    assert fired["last_triggered_at"] == fired_at
    assert fired["owner_id"] == str(owner)
    assert fired["subjects"] == ["BTC/USDT"]
    assert fired["spec"]["condition"] == {"type": "above", "threshold": 100_000.0}
    assert fired["created_at"] < fired["updated_at"]
    deleted = documents[str(watching_posts)]
    assert (deleted["status"], deleted["spec"]["name"]) == ("deleted", "changed")
    assert deleted["subjects"] == ["BTC/USDT"]
    assert documents[str(expiring)]["status"] == "expired"


async def test_a_changed_once_rule_is_active_again(
    services: Services, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    rules = services.alert_rules
    spec: dict[str, Any] = {
        "target": {"kind": "posts", "account": "@toly"},
        "condition": {"type": "mentioned"},
        "channels": ["web"],
    }
    rule = rules.create(uuid4(), spec)
    rules.record_trigger(
        rule,
        {
            "source_event_id": uuid4(),
            "source_stream": "ix:{p1}:posts",
            "source_position": "1-1",
            "observed_at": datetime.now(UTC),
        },
    )
    rules.update(rule, {**spec, "condition": {"type": "mentioned", "min_engagement": 5}})
    documents = await replayed(
        AlertRules(), await log_of(store, "alert_rules", AlertRules()), database
    )
    assert documents[str(rule)]["status"] == "active"
    assert documents[str(rule)]["subjects"] == ["@toly"]


async def test_conversations_and_their_transcripts(
    services: Services, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    conversations = services.conversations
    user = uuid4()
    conv, _ = conversations.receive(user, "web", "t1", {"message_id": "m1", "text": "alert me"})
    conversations.receive(user, "web", "t1", {"message_id": "m1", "text": "alert me"})
    conversations.call_tool(
        conv,
        {"call_id": "c1", "in_reply_to": "m1", "tool": "create_rule", "arguments": {"s": "BTC"}},
    )
    conversations.record_tool_result(conv, {"call_id": "c1", "error": "no such symbol"})
    conversations.reply(
        conv,
        {
            "reply_id": "r1",
            "in_reply_to": "m1",
            "text": "Which symbol?",
            "usage": {"model": "offline", "input_tokens": 12, "output_tokens": 3},
        },
    )
    other, _ = conversations.receive(user, "telegram", "chat", {"message_id": "x", "text": "hi"})

    log = await log_of(store, "conversations", Conversations())
    threads = await replayed(Conversations(), log, database)
    transcript = await replayed(
        Messages(), await log_of(store, "conversations", Messages()), database
    )

    assert conv == conversation_id(user, "web", "t1")
    thread = threads[str(conv)]
    assert (thread["user_id"], thread["platform"], thread["thread_id"]) == (str(user), "web", "t1")
    assert (thread["message_count"], thread["input_tokens"], thread["output_tokens"]) == (4, 12, 3)
    assert thread["last_message_at"] > thread["started_at"]
    assert threads[str(other)]["message_count"] == 1
    entries = sorted(
        (d for d in transcript.values() if d["conversation_id"] == str(conv)),
        key=lambda d: d["seq"],
    )
    assert [(d["role"], d["message_id"], d["text"]) for d in entries] == [
        ("user", "m1", "alert me"),
        ("tool_call", "c1", '{"s":"BTC"}'),
        ("tool_result", "c1", "no such symbol"),
        ("agent", "r1", "Which symbol?"),
    ]
    assert entries[1]["tool"] == "create_rule"
    assert entries[2]["error"] is True
    assert entries[3]["in_reply_to"] == "m1"
    assert all(POSITION in d for d in entries)


async def test_watch_lists(
    services: Services, store: EventStore, database: AsyncDatabase[Document]
) -> None:
    watches = services.watches
    user = uuid4()
    watches.watch_wallet(user, WALLET.lower(), label="cold")
    watches.watch_wallet(user, "0x" + "1" * 40)
    watches.unwatch_wallet(user, "0x" + "1" * 40)
    watches.follow_account(user, "x", "@toly")
    watches.follow_account(user, "x", "vitalik")
    watches.unfollow_account(user, "x", "vitalik")
    watches.follow_keyword(user, "$SOL")
    watches.follow_keyword(user, "eth")
    watches.unfollow_keyword(user, "ETH")

    documents = await replayed(Watches(), await log_of(store, "watches", Watches()), database)

    document = documents[str(watch_id(user))]
    assert document["user_id"] == str(user)
    assert document["wallets"] == [{"address": WALLET, "ens": None, "label": "cold"}]
    assert document["accounts"] == [{"platform": "x", "handle": "toly"}]
    assert document["keywords"] == ["$sol"]
