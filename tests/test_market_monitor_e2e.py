"""The market monitor end to end: tick -> rule -> alert -> signed webhook -> read model.

Everything real: Redis, SecantusDB, the AlertRules and Users applications, the `rules`,
`rule-firings` and `notify` handlers in the real runtime, the projector, and a webhook
receiver that verifies the signature the way the README tells users to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

import notify.handler  # noqa: F401 - registers notify
import rules.recorder  # noqa: F401 - registers rules and rule-firings
from aggregates.alert_rule import AlertRule
from aggregates.services.bundle import Services
from events.catalog import PriceTick
from events.envelope import Event
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.connections import connect_mongo
from impressox.settings import Settings
from projections.reader import ReadModels
from projections.readmodels.notifications import Notifications
from tests.contexts import Contexts
from tests.handlers.support import FAST, running
from tests.notify.servers import WebhookReceiver, serving
from tests.polling import wait_until
from tests.readside import ProjectorThread

SETTINGS = {
    "notify_user_cache_s": 0.0,
    "allowed_destinations": ["127.0.0.1"],  # the receiver stands for a public one
}
READ_MODELS = [Notifications.name]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver()
    async with serving(hook.app(), hook):
        yield hook


def tick(price: float) -> Event:
    payload = PriceTick(
        symbol="ETH/USDT", venue="binance", price=price, source_time=datetime.now(UTC)
    )
    return Event(key=payload.symbol, payload=payload)


async def test_a_tick_crossing_a_rule_arrives_signed_at_the_webhook_and_in_the_read_model(
    *,
    store: EventStore,
    contexts: Contexts,
    settings: Settings,
    services: Services,
    receiver: WebhookReceiver,
    projector: ProjectorThread,
    mongo_url: str,
) -> None:
    owner = services.users.register("trader")
    added = services.users.add_channel(
        owner, {"channel_id": "hook", "channel": {"kind": "webhook", "url": receiver.url + "/hook"}}
    )
    assert added.signing_secret is not None
    receiver.secret = added.signing_secret
    rule_id = services.alert_rules.create(
        owner,
        {
            "name": "ETH breaks 4k",
            "target": {"kind": "symbol", "symbol": "ETH/USDT"},
            "condition": {"type": "crosses_up", "threshold": 4000},
            "channels": ["hook", "web"],
            "message_template": "{symbol} crossed {threshold} at {price}",
        },
    )
    workers = [
        Worker(HANDLERS.get(name), store, FAST, contexts.handler(name, settings))
        for name in ("rules", "rule-firings", "notify")
    ]
    async with running(workers[0]), running(workers[1]), running(workers[2]):
        for price in (3990.0, 3999.5, 4001.25, 4100.0):  # crosses once, then stays above
            await store.append("ticks", tick(price))

        async def delivered() -> bool:
            return receiver.verified == 1

        await wait_until(delivered)
        mongo: AsyncMongoClient[dict[str, Any]] = connect_mongo(mongo_url)
        read_models = ReadModels(mongo[settings.mongo_database], [Notifications()])
        try:

            async def in_read_model() -> list[dict[str, Any]]:
                collection = await read_models.collection(Notifications.name)
                return await collection.find({"user_id": str(owner)}).to_list()

            await wait_until(lambda: _two(in_read_model))
            documents = await in_read_model()
        finally:
            await mongo.close()
        rule: AlertRule = await asyncio.to_thread(services.alert_rules.load, rule_id)

    body = receiver.requests[-1].fields
    assert body["alert"]["rule_id"] == str(rule_id)
    assert body["alert"]["message"] == "ETH/USDT crossed 4000.0 at 4001.25"
    assert {(d["channel_id"], d["status"]) for d in documents} == {
        ("hook", "sent"),
        ("web", "sent"),
    }
    assert rule.status == "completed"
    assert rule.trigger_count == 1
    assert len(receiver.requests) == 1


async def _two(documents: Any) -> bool:
    return len(await documents()) == 2
