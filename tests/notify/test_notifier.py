"""The notify handler end to end: a real worker, real Redis, the channels' local servers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

import pytest

from aggregates.services.users import Users
from events.catalog import NotificationFailed, NotificationSent
from events.envelope import Event, RecordedEvent
from events.store import EventStore
from handlers.dead_letter_ops import DeadLetters, retry_stream
from impressox.settings import Settings
from notify.config import NotifyContext
from notify.handler import Notifier
from notify.keys import NotifyKeys
from notify.ledger import delivery_id
from tests.contexts import Contexts
from tests.handlers.support import read_all, wait_until
from tests.notify.conftest import (
    CHAT,
    DISCORD_CHANNEL,
    DISCORD_USER,
    WEBHOOK_ID,
    WEBHOOK_TOKEN,
    StartWorker,
)
from tests.notify.servers import DiscordApi, Fault, TelegramBotApi, WebhookReceiver
from tests.notify.support import FakeClock, Sleeps, alert

Outcome = NotificationSent | NotificationFailed


async def register(
    users: Users, *channels: tuple[str, dict[str, Any]]
) -> tuple[UUID, dict[str, str]]:
    """A user with `channels`; returns the user id and each webhook's signing secret."""
    user_id = await asyncio.to_thread(users.register, "Trader")
    secrets: dict[str, str] = {}
    for channel_id, channel in channels:
        added = await asyncio.to_thread(
            users.add_channel, user_id, {"channel_id": channel_id, "channel": channel}
        )
        if added.signing_secret:
            secrets[channel_id] = added.signing_secret
    return user_id, secrets


TELEGRAM = ("tg", {"kind": "telegram", "chat_id": CHAT})


async def outcomes(store: EventStore) -> list[Outcome]:
    events = await read_all(store, "notifications")
    found = [event.payload for event in events]
    assert all(isinstance(payload, Outcome) for payload in found)
    return found  # type: ignore[return-value]


async def outcome_events(store: EventStore) -> list[Event]:
    return await read_all(store, "notifications")


async def until_outcomes(store: EventStore, count: int) -> list[Outcome]:
    async def enough() -> bool:
        return len(await outcomes(store)) >= count

    await wait_until(enough)
    return await outcomes(store)


async def held(store: EventStore) -> int:
    keys = NotifyKeys(store.names)
    return sum([await store.redis.zcard(keys.held(tag)) for tag in store.names.partition_tags()])


def sent_to(telegram: TelegramBotApi) -> int:
    return sum(path.endswith("/sendMessage") for path in telegram.paths())


async def test_every_channel_gets_the_alert_in_its_format(
    *,
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    discord: DiscordApi,
    receiver: WebhookReceiver,
) -> None:
    hook_url = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
    user_id, secrets = await register(
        users,
        TELEGRAM,
        ("dc", {"kind": "discord", "target": "channel", "id": DISCORD_CHANNEL}),
        ("dm", {"kind": "discord", "target": "dm", "id": DISCORD_USER}),
        ("dchook", {"kind": "discord_webhook", "url": hook_url}),
        ("hook", {"kind": "webhook", "url": f"{receiver.url}/hook"}),
    )
    receiver.secret = secrets["hook"]
    event = alert(user_id)  # no channels named: all of the user's, web included
    async with notify_worker():
        await store.append("alerts", event)
        found = await until_outcomes(store, 6)

    by_channel = {o.channel_id: o for o in found if isinstance(o, NotificationSent)}
    assert set(by_channel) == {"web", "tg", "dc", "dm", "dchook", "hook"}, found
    assert by_channel["tg"].message_id is not None
    assert by_channel["dc"].response.startswith("discord message_id=")
    assert by_channel["hook"].status_code == 204
    assert all(outcome.subject_event_id == event.event_id for outcome in found)

    (telegram_message,) = [r for r in telegram.requests if r.path.endswith("/sendMessage")]
    assert "&lt;b&gt;crossed&lt;/b&gt; 100k &amp; @everyone" in telegram_message.fields["text"]
    discord_posts = [r for r in discord.requests if r.path.endswith("/messages")]
    assert {r.path for r in discord_posts} == {
        f"/api/v10/channels/{DISCORD_CHANNEL}/messages",
        f"/api/v10/channels/9{DISCORD_USER[1:]}/messages",
    }
    assert receiver.verified == 1
    body = json.loads(receiver.requests[0].body)
    assert body["delivery_id"] == str(delivery_id(event.event_id, "hook"))

    recorded = json.dumps([e.model_dump(mode="json") for e in await outcome_events(store)])
    for secret in (WEBHOOK_TOKEN, secrets["hook"], telegram.token, discord.token):
        assert secret not in recorded
    for outcome_event in await outcome_events(store):
        assert outcome_event.causation_id == event.event_id
        assert outcome_event.correlation_id == event.correlation_id


async def test_a_redelivered_alert_is_not_sent_twice(
    store: EventStore, users: Users, notify_worker: StartWorker, telegram: TelegramBotApi
) -> None:
    user_id, _ = await register(users, TELEGRAM)
    event = alert(user_id, channels=("tg",))
    async with notify_worker():
        [position] = [await store.append("alerts", event)]
        await until_outcomes(store, 1)
        tag = store.names.tag_of(position.stream)
        # Redeliver it, as an operator's retry does: the same entry, a new position.
        await store.append_to_stream(
            retry_stream(store.names, tag, "notify"), [event], expected_version=None
        )

        async def redelivery_handled() -> bool:
            info = await store.redis.xinfo_groups(retry_stream(store.names, tag, "notify"))
            return bool(info[0]["lag"] == 0 and info[0]["pending"] == 0)

        await wait_until(redelivery_handled)
    assert sent_to(telegram) == 1
    assert len(await outcomes(store)) == 1


async def test_an_uncommitted_delivery_is_recorded_not_resent(
    store: EventStore,
    users: Users,
    contexts: Contexts,
    settings: Settings,
    telegram: TelegramBotApi,
) -> None:
    """A crash after sending but before the commit: the redelivery emits the same event."""
    user_id, _ = await register(users, TELEGRAM)
    event = alert(user_id, channels=("tg",))
    result = await store.append("alerts", event)
    recorded = RecordedEvent(result.stream, result.position, event)
    notifier = Notifier(contexts.of(NotifyContext, settings))
    try:
        first = await notifier.handle(recorded)  # never committed: as if the worker died
        again = await notifier.handle(recorded)
    finally:
        await notifier.aclose()
    assert [o.event for o in again] == [o.event for o in first]
    assert first[0].event.event_id == delivery_id(event.event_id, "tg")
    assert sent_to(telegram) == 1


async def test_retry_after_is_honoured(
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    sleeps: Sleeps,
) -> None:
    user_id, _ = await register(users, TELEGRAM)
    telegram.fail(Fault("rate_limited", retry_after=7))
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("tg",)))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationSent)
    assert outcome.attempts == 2
    assert sleeps.calls == [7.0]
    assert sent_to(telegram) == 2


async def test_server_errors_are_retried_with_backoff_then_succeed(
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    receiver: WebhookReceiver,
    sleeps: Sleeps,
) -> None:
    user_id, secrets = await register(
        users, ("hook", {"kind": "webhook", "url": f"{receiver.url}/hook"})
    )
    receiver.secret = secrets["hook"]
    receiver.fail(Fault("server_error", status=503), Fault("server_error", status=502))
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("hook",)))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationSent)
    assert outcome.attempts == 3
    assert len(receiver.requests) == 3
    assert receiver.verified == 1
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 0.010  # full jitter under the 10 ms, then 20 ms, ceiling
    assert 0 <= sleeps.calls[1] <= 0.020
    signatures = {request.headers["X-Impressox-Delivery"] for request in receiver.requests}
    assert len(signatures) == 1  # one delivery id across its retries


async def test_a_timeout_is_retried(
    store: EventStore, users: Users, notify_worker: StartWorker, discord: DiscordApi
) -> None:
    hook_url = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
    user_id, _ = await register(users, ("dchook", {"kind": "discord_webhook", "url": hook_url}))
    discord.fail(Fault("hang"))
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("dchook",)))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationSent)
    assert outcome.attempts == 2
    assert outcome.message_id is not None


async def test_an_invalid_chat_fails_at_once_without_retry_or_dead_letter(
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    sleeps: Sleeps,
) -> None:
    user_id, _ = await register(users, ("tg", {"kind": "telegram", "chat_id": 777}))
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("tg",)))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationFailed)
    assert outcome.error == "telegram: Chat not found"  # the library drops "Bad Request: "
    assert outcome.status_code == 400
    assert (outcome.attempts, outcome.dead_lettered) == (1, False)
    assert sent_to(telegram) == 1
    assert sleeps.calls == []
    assert (await DeadLetters(store).page("notify")).items == []


async def test_a_removed_channel_fails_without_a_send(
    store: EventStore, users: Users, notify_worker: StartWorker
) -> None:
    user_id, _ = await register(users)
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("gone",)))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationFailed)
    assert (outcome.error, outcome.channel_kind) == ("channel removed", "unknown")


async def test_exhausted_retries_dead_letter_the_alert_and_a_retry_delivers_the_rest(
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    receiver: WebhookReceiver,
    telegram: TelegramBotApi,
) -> None:
    user_id, secrets = await register(
        users, TELEGRAM, ("hook", {"kind": "webhook", "url": f"{receiver.url}/hook"})
    )
    receiver.secret = secrets["hook"]
    receiver.fail(*[Fault("server_error", status=503)] * 3)  # notify_max_attempts
    dead_letters = DeadLetters(store)
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("tg", "hook")))

        async def dead_lettered() -> bool:
            return len((await dead_letters.page("notify")).items) == 1

        await wait_until(dead_lettered)
        found = await outcomes(store)
        assert len(receiver.requests) == 3  # the runtime's re-attempts did not retry it again
        assert sent_to(telegram) == 1
        assert {type(o).__name__ for o in found} == {"NotificationSent", "NotificationFailed"}
        (failed,) = [o for o in found if isinstance(o, NotificationFailed)]
        assert failed.dead_lettered
        assert (failed.attempts, failed.status_code) == (3, 503)
        (letter,) = (await dead_letters.page("notify")).items
        assert letter.error_type == "DeliveryGaveUpError"

        assert await dead_letters.retry("notify") == 1
        await until_outcomes(store, 3)
    final = await outcomes(store)
    assert [o.channel_id for o in final if isinstance(o, NotificationSent)].count("hook") == 1
    assert sent_to(telegram) == 1  # delivered before: skipped on the retry
    assert receiver.verified == 1


async def test_quiet_hours_hold_until_they_end_then_deliver_once(
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    clock: FakeClock,
) -> None:
    user_id, _ = await register(users, TELEGRAM)
    quiet = {"start": time(22), "end": time(7), "timezone": "Europe/Paris"}
    await asyncio.to_thread(users.set_quiet_hours, user_id, quiet)
    clock.now = datetime(2025, 1, 15, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    async with notify_worker():
        await store.append("alerts", alert(user_id))  # web and tg
        (web,) = await until_outcomes(store, 1)  # the web feed is never held
        assert web.channel_id == "web"

        async def is_held() -> bool:
            return await held(store) == 1

        await wait_until(is_held)
        assert sent_to(telegram) == 0

        clock.now = datetime(2025, 1, 16, 6, 0, tzinfo=UTC)  # 07:00 in Paris: over
        found = await until_outcomes(store, 2)
        assert await held(store) == 0
    assert sent_to(telegram) == 1
    assert [o.channel_id for o in found] == ["web", "tg"]


async def test_critical_alerts_go_through_quiet_hours(
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    telegram: TelegramBotApi,
    clock: FakeClock,
) -> None:
    user_id, _ = await register(users, TELEGRAM)
    quiet = {"start": time(22), "end": time(7), "timezone": "UTC"}
    await asyncio.to_thread(users.set_quiet_hours, user_id, quiet)
    clock.now = datetime(2025, 1, 15, 23, 0, tzinfo=UTC)
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("tg",), severity="critical"))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationSent)
    assert await held(store) == 0


class TestRateLimit:
    @pytest.fixture
    def overrides(self) -> dict[str, object]:
        return {"notify_rate_per_minute": 60, "notify_burst": 1, "notify_wait_max_s": 1.5}

    async def test_over_the_limit_waits_then_holds_never_drops(
        self,
        *,
        store: EventStore,
        users: Users,
        notify_worker: StartWorker,
        telegram: TelegramBotApi,
        sleeps: Sleeps,
        clock: FakeClock,
    ) -> None:
        user_id, _ = await register(users, TELEGRAM)
        async with notify_worker():
            for _ in range(2):
                await store.append("alerts", alert(user_id, channels=("tg",)))

            # The first takes the only token. The second waits for one (the injected
            # sleep lets no time pass), is refused again, and is held, not dropped.
            async def is_held() -> bool:
                return await held(store) == 1

            await wait_until(is_held)
            assert sent_to(telegram) == 1

            async def both_delivered() -> bool:
                clock.advance(0.5)  # time passes for the hold as it does for the bucket
                return len(await outcomes(store)) == 2

            await wait_until(both_delivered)
        found = await outcomes(store)
        assert all(isinstance(outcome, NotificationSent) for outcome in found)
        assert sent_to(telegram) == 2
        assert sleeps.calls
        assert all(0 < wait <= 1.0 for wait in sleeps.calls)
