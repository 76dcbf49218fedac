"""Channel tests end to end: `POST /v1/channels/{id}/test` on a real API, the notify
handler in a real worker, a local webhook receiver and the local Telegram server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from aggregates.services.bundle import Services
from aggregates.services.users import Users
from events.catalog import ChannelTestRequested, NotificationFailed, NotificationSent
from events.envelope import Event
from events.store import EventStore
from handlers.dead_letter_ops import DeadLetters
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.notify.conftest import DISCORD_CHANNEL, StartWorker
from tests.notify.servers import DiscordApi, Fault, TelegramBotApi, WebhookReceiver
from tests.notify.support import FakeClock
from tests.notify.test_notifier import TELEGRAM, outcome_events, register, sent_to
from tests.polling import eventually, wait_until
from tests.readside import ProjectorThread, issue_key

QUIET_ALL_DAY = {"start": time(0), "end": time(23, 59), "timezone": "UTC"}


def channel_test_of(user_id: UUID, channel_id: str) -> Event:
    payload = ChannelTestRequested(
        user_id=user_id, channel_id=channel_id, requested_at=datetime(2025, 1, 15, tzinfo=UTC)
    )
    return Event(payload=payload, key=payload.partition_key())


async def until_outcome(store: EventStore) -> Event:
    async def arrived() -> bool:
        return len(await outcome_events(store)) >= 1

    await wait_until(arrived)
    (outcome,) = await outcome_events(store)
    return outcome


async def test_a_test_goes_to_its_channel_only_through_quiet_hours_marked_as_a_test(
    *,
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    receiver: WebhookReceiver,
    clock: FakeClock,
) -> None:
    user_id, secrets = await register(
        users, TELEGRAM, ("hook", {"kind": "webhook", "url": f"{receiver.url}/hook"})
    )
    receiver.secret = secrets["hook"]
    await asyncio.to_thread(users.set_quiet_hours, user_id, QUIET_ALL_DAY)
    clock.now = datetime(2025, 1, 15, 12, tzinfo=UTC)  # in the quiet hours
    request = channel_test_of(user_id, "hook")
    async with notify_worker():
        await store.append(ChannelTestRequested.category, request)
        outcome = await until_outcome(store)

    assert isinstance(outcome.payload, NotificationSent)
    assert (outcome.payload.channel_id, outcome.payload.status_code) == ("hook", 204)
    assert outcome.payload.subject_event_id == request.event_id
    assert outcome.causation_id == request.event_id
    assert outcome.payload.title == "Test message: channel test"
    assert sent_to(telegram) == 0  # the user's other channels hear nothing
    assert receiver.verified == 1  # signed like an alert
    (delivered,) = receiver.requests
    assert delivered.headers["X-Impressox-Event"] == "channel.test_requested"
    body = json.loads(delivered.body)
    assert body["type"] == "channel.test_requested"
    assert body["alert"]["rule_id"] == str(UUID(int=0))
    assert "'hook'" in body["alert"]["message"]


async def test_telegram_and_discord_tests_read_as_tests(
    *,
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    discord: DiscordApi,
) -> None:
    user_id, _ = await register(
        users, TELEGRAM, ("dc", {"kind": "discord", "target": "channel", "id": DISCORD_CHANNEL})
    )
    async with notify_worker():
        await store.append(ChannelTestRequested.category, channel_test_of(user_id, "tg"))
        await store.append(ChannelTestRequested.category, channel_test_of(user_id, "dc"))

        async def both() -> bool:
            return len(await outcome_events(store)) == 2

        await wait_until(both)
    sent = [e.payload for e in await outcome_events(store)]
    assert all(isinstance(o, NotificationSent) for o in sent), sent
    (message,) = [r for r in telegram.requests if r.path.endswith("/sendMessage")]
    assert "<b>Test message</b> · channel test" in message.fields["text"]
    (post,) = [r for r in discord.requests if r.path.endswith("/messages")]
    (embed,) = post.fields["embeds"]
    assert (embed["title"], embed["footer"]["text"]) == (
        "🔹 Test message: channel test",
        "channel test",
    )


async def test_a_failing_channel_fails_its_test_with_the_fixed_message_and_no_dead_letter(
    *,
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    receiver: WebhookReceiver,
) -> None:
    user_id, _ = await register(users, ("hook", {"kind": "webhook", "url": f"{receiver.url}/hook"}))
    receiver.fail(*[Fault("server_error", status=503)] * 3)  # every attempt (3)
    async with notify_worker():
        await store.append(ChannelTestRequested.category, channel_test_of(user_id, "hook"))
        outcome = await until_outcome(store)
        assert isinstance(outcome.payload, NotificationFailed)
        assert (
            outcome.payload.error
            == "webhook: HTTP 503 (the receiver failed; retried) (after 3 attempts)"
        )
        assert (outcome.payload.attempts, outcome.payload.dead_lettered) == (3, False)
        assert "receiver down" not in outcome.payload.error  # never what the server said
    assert (await DeadLetters(store).page("notify")).items == []


async def test_a_channel_removed_before_its_test_fails_it(
    *, store: EventStore, users: Users, notify_worker: StartWorker
) -> None:
    user_id, _ = await register(users, TELEGRAM)
    async with notify_worker():
        await store.append(ChannelTestRequested.category, channel_test_of(user_id, "gone"))
        outcome = await until_outcome(store)
    assert isinstance(outcome.payload, NotificationFailed)
    assert (outcome.payload.channel_id, outcome.payload.error) == ("gone", "channel removed")


# -- through the API ----------------------------------------------------------------------


@pytest.fixture
def client(
    settings: Settings, redis_url: str, mongo_url: str, redis: Redis
) -> Iterator[TestClient]:
    """The API, its read models kept up to date meanwhile (after `redis`: the projector
    stops before the test's keys are removed)."""
    projector = ProjectorThread(settings, redis_url, mongo_url).start()
    try:
        app = create_app(settings, redis_url=redis_url, mongo_url=mongo_url)
        with TestClient(app) as test_client:
            yield test_client
    finally:
        projector.stop()


async def test_the_api_sends_a_test_and_its_outcome_is_read_by_its_id(
    *,
    client: TestClient,
    services: Services,
    notify_worker: StartWorker,
    receiver: WebhookReceiver,
) -> None:
    user_id, token = issue_key(services, "user")
    client.headers["Authorization"] = f"Bearer {token}"
    hook = {"kind": "webhook", "url": f"{receiver.url}/hook"}
    added = await asyncio.to_thread(
        client.post, "/v1/channels", json={"channel_id": "hook", "channel": hook}
    )
    assert added.status_code == 201, added.text
    receiver.secret = added.json()["signing_secret"]

    unknown = await asyncio.to_thread(client.post, "/v1/channels/nope/test")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "no channel 'nope'" in unknown.json()["detail"]
    malformed = await asyncio.to_thread(client.post, "/v1/channels/Not_An_Id/test")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "path.channel_id"

    async with notify_worker():
        sent = await asyncio.to_thread(client.post, "/v1/channels/hook/test")
        assert sent.status_code == 202, sent.text
        test_id = sent.json()["id"]

        def outcome() -> list[dict[str, Any]]:
            page = client.get("/v1/notifications", params={"subject_event_id": test_id})
            items: list[dict[str, Any]] = page.json()["items"]
            return items

        found = await asyncio.to_thread(eventually, outcome, 20.0)
    assert [(n["channel_id"], n["status"], n["response"]) for n in found] == [
        ("hook", "sent", "HTTP 204")
    ]
    assert found[0]["user_id"] == str(user_id)
    assert receiver.verified == 1
    other = client.get("/v1/notifications", params={"subject_event_id": str(UUID(int=1))})
    assert other.json()["items"] == []
