"""A handler's invalid output never blocks its partition (issue 13, item 2).

One user's rule fired a 20 MB `alert.triggered`; every handler reading alerts refused
it, and the rules worker, restarted, failed on it at every tick of the partition. Now
each output is checked before the commit, as its readers will decode it: an input
whose output fails is a dead letter at once, naming the output's type and field, and
the entries after it are handled straight away. Each kind of handler is shown: a
plain handler, a batch handler (a projector whose documents MongoDB refuses), and the
rules handler, which also starts past a poison alert already stored.

The runtime here retries a failing entry only after a minute (`SLOW_RETRIES`): an
invalid output that were retried would hold its partition past every wait below.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, cast
from uuid import UUID, uuid4

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from aggregates.alert_rule import AlertRule
from aggregates.rule_spec import RuleSpec
from aggregates.services.bundle import Services
from events.catalog import AlertTriggered, PriceTick
from events.codec import decode
from events.envelope import Event, RecordedEvent
from events.errors import InvalidEventError
from events.redis_client import entries
from events.store import EventStore
from handlers.dead_letters import EntryDeadLettered
from handlers.declaration import HANDLERS, HandlerFactory, HandlerResult, HandlerSpec, Output
from handlers.worker import Worker
from impressox.settings import Settings
from projections.model import Document, Projection
from projections.projector import Projector
from rules.handler import GROUP, RuleEvaluation
from tests.contexts import Contexts
from tests.factories import Pinged, Ponged, ping
from tests.handlers.runtime_contract import declare
from tests.handlers.support import FAST, read_all, running, wait_until
from tests.readside import isolated_settings

SLOW_RETRIES = dataclasses.replace(FAST, retry_backoff_ms=60_000, retry_backoff_max_ms=60_000)


async def dead_letters(store: EventStore, handler: str) -> list[EntryDeadLettered]:
    letters = []
    for tag in store.names.partition_tags():
        stream = store.names.dead_letters(tag, handler)
        async for recorded in store.read_stream(stream):
            assert isinstance(recorded.event.payload, EntryDeadLettered)
            letters.append(recorded.event.payload)
    return letters


# -- a plain handler ----------------------------------------------------------------------


async def test_a_plain_handlers_invalid_output_dead_letters_its_input_at_once(
    store: EventStore,
) -> None:
    calls: Counter[int] = Counter()

    async def answer(recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        calls[payload.n] += 1
        if payload.n == 2:  # a field of the wrong type, unseen by model_construct
            wrong = Ponged.model_construct(n="two")  # type: ignore[arg-type]
            return [Output("pongs", recorded.event.caused(wrong))]
        if payload.n == 3:  # far too large for a stream entry
            huge = Pinged.model_construct(n=3, text="x" * 2_000_000)
            return [Output("pongs", recorded.event.caused(huge))]
        return [Output("pongs", recorded.event.caused(Ponged(n=payload.n)))]

    await store.append_batch("pings", [ping(n, key="one-partition") for n in range(6)])
    async with running(Worker(declare("answer", answer), store, SLOW_RETRIES)):

        async def four_answered() -> bool:
            answered = len(await read_all(store, "pongs"))
            return answered == 4 and len(await dead_letters(store, "answer")) == 2

        await wait_until(four_answered)
        letters = await dead_letters(store, "answer")
    answered = [event.payload for event in await read_all(store, "pongs")]
    assert [p.n for p in answered if isinstance(p, Ponged)] == [0, 1, 4, 5]
    assert calls == Counter({0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1})  # none retried
    assert [(letter.error_type, letter.deliveries) for letter in letters] == [
        ("InvalidOutputError", 1),
        ("InvalidOutputError", 1),
    ]
    assert letters[0].error.startswith("output test.pong: payload.n: Input should be a valid int")
    assert letters[1].error.startswith("output test.ping: payload.text: 2,000,002 bytes; the")
    assert "more than the 1,048,576 a handler may append" in letters[1].error


# -- a batch handler: a projector whose document MongoDB refuses ------------------------


class Labels(Projection):
    """Per key, the text of its last ping as a field name: "bad\\0key" cannot be one."""

    name: ClassVar[str] = "labels"
    categories: ClassVar[tuple[str, ...]] = ("pings",)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        return {payload.text: payload.n}


@pytest.fixture
async def database(mongo_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"db_{prefix}"]
    await client.drop_database(f"db_{prefix}")
    await client.close()


async def test_a_projectors_refused_document_dead_letters_its_event_at_once(
    store: EventStore, database: AsyncDatabase[Document]
) -> None:
    collection = database["labels"]
    spec = HandlerSpec(
        name="labels",
        categories=("pings",),
        types=None,
        factory=lambda _context: Projector(Labels(), collection),
    )
    texts = ["ok", "fine", "bad\x00key", "good", "great"]
    await store.append_batch(
        "pings", [ping(n, key=f"k{n}", text=text) for n, text in enumerate(texts)]
    )
    async with running(Worker(spec, store, SLOW_RETRIES)):

        async def four_written() -> bool:
            written = await collection.count_documents({})
            return written == 4 and len(await dead_letters(store, "labels")) == 1

        await wait_until(four_written)
        letters = await dead_letters(store, "labels")
    written = {document["_id"] async for document in collection.find()}
    assert written == {"k0", "k1", "k3", "k4"}
    (letter,) = letters
    assert (letter.error_type, letter.deliveries) == ("InvalidOutputError", 1)
    assert letter.error.startswith("output labels document: refused by MongoDB: ")
    assert letter.entry["key"] == "k2"


# -- the rules handler ----------------------------------------------------------------------

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(prefix: str, redis_url: str, tmp_path: Path) -> Settings:
    return isolated_settings(prefix, tmp_path, redis_url=redis_url)


def tick(price: float, second: int) -> Event:
    payload = PriceTick(
        symbol="BTC/USDT",
        venue="binance",
        price=price,
        volume=1.0,
        source_time=START + timedelta(seconds=second),
    )
    return Event(key=payload.symbol, payload=payload)


def above(threshold: float, **fields: object) -> dict[str, object]:
    return {
        "target": {"kind": "symbol", "symbol": "BTC/USDT"},
        "condition": {"type": "above", "threshold": threshold},
        "frequency": {"kind": "every_time", "cooldown_s": 0},
        "channels": ["web"],
        **fields,
    }


def recorded_as_before(services: Services, owner: UUID, spec: dict[str, object]) -> UUID:
    """A rule recorded without today's command checks, as rules created earlier were."""
    rule = AlertRule(owner_id=owner, spec=RuleSpec.model_validate(spec))
    services.alert_rules.commit(rule)
    return rule.id


def rules_worker(contexts: Contexts, settings: Settings, spec: HandlerSpec | None = None) -> Worker:
    spec = spec or HANDLERS.get(GROUP)
    return Worker(spec, contexts.store, SLOW_RETRIES, contexts.of(spec.context, settings))


async def alerts_of(store: EventStore, rule_id: UUID) -> list[AlertTriggered]:
    """The rule's alerts that decode (a stored poison one does not)."""
    found = []
    for stream in store.names.category_streams("alerts"):
        for _, fields in entries(await store.redis.xrange(stream)):
            try:
                payload = decode(fields).payload
            except InvalidEventError:
                continue
            if isinstance(payload, AlertTriggered) and payload.rule_id == rule_id:
                found.append(payload)
    return found


async def test_the_rules_handlers_invalid_alert_never_holds_the_partition(
    store: EventStore, contexts: Contexts, settings: Settings, services: Services
) -> None:
    """One rule's alert made invalid (as the unbounded template made one) on the first
    tick: that tick is a dead letter at once, and the next tick fires both rules."""
    mallory, alice = services.users.register("mallory"), services.users.register("alice")
    bad = services.alert_rules.create(mallory, above(100))
    good = services.alert_rules.create(alice, above(100))

    class Corrupting(RuleEvaluation):
        async def handle(self, recorded: RecordedEvent) -> HandlerResult:
            outputs = list(await super().handle(recorded) or [])
            return [_corrupted(output) if _first_of(output, bad) else output for output in outputs]

    spec = dataclasses.replace(HANDLERS.get(GROUP), factory=cast("HandlerFactory", Corrupting))
    async with running(rules_worker(contexts, settings, spec)):
        await store.append("ticks", tick(101, 0))
        await store.append("ticks", tick(102, 1))

        async def alice_alerted() -> bool:
            alerted = len(await alerts_of(store, good))
            return alerted == 1 and len(await dead_letters(store, GROUP)) == 1

        await wait_until(alice_alerted)
        (letter,) = await dead_letters(store, GROUP)
    assert (letter.error_type, letter.deliveries) == ("InvalidOutputError", 1)
    assert letter.error == (
        "output alert.triggered: payload.message: String should have at most 4000 characters"
    )
    assert (await alerts_of(store, good))[0].triggered_at == START + timedelta(seconds=1)


def _first_of(output: Output, rule_id: UUID) -> bool:
    """Whether `output` is the rule's alert of the first tick."""
    payload = output.event.payload
    return (
        isinstance(payload, AlertTriggered)
        and payload.rule_id == rule_id
        and payload.triggered_at == START
    )


def _corrupted(output: Output) -> Output:
    payload = output.event.payload
    assert isinstance(payload, AlertTriggered)
    message = "x" * 5000
    bad = AlertTriggered.model_construct(**{**dict(payload), "message": message})
    return Output(output.category, output.event.model_copy(update={"payload": bad}))


async def test_a_stored_poison_alert_does_not_stop_a_restarted_rules_worker(
    store: EventStore, contexts: Contexts, settings: Settings, services: Services
) -> None:
    """Issue 13's wedge: a 20 MB alert (here 200 kB: any message over 4000 characters
    will not decode) appended by the old runtime, then a rules worker starting afresh;
    it used to fail on it at every tick, so no alert of the partition went out."""
    mallory, alice = services.users.register("mallory"), services.users.register("alice")
    old = recorded_as_before(services, mallory, above(100, message_template="{price:>20000000}"))
    good = services.alert_rules.create(alice, above(100))
    poison = AlertTriggered.model_construct(
        rule_id=old,
        user_id=mallory,
        subject="BTC/USDT",
        condition="above",
        severity="warning",
        message=" " * 200_000,
        values={},
        trigger_event_id=uuid4(),
        trigger_key=None,
        triggered_at=START,
        channels=("web",),
    )
    await store.append("alerts", Event(key="BTC/USDT", payload=poison))
    async with running(rules_worker(contexts, settings)):
        await store.append("ticks", tick(101, 0))

        async def both_alerted() -> bool:
            return len(await alerts_of(store, good)) == 1 and len(await alerts_of(store, old)) == 1

        await wait_until(both_alerted)
    assert await dead_letters(store, GROUP) == []
    assert [a.message for a in await alerts_of(store, old)] == [
        "BTC/USDT on binance is above 100 (now 101)"
    ]
