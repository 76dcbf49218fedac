"""The `rules` handler: every tick against the rules of its symbol, every post against
the post rules, alerts out.

Each tick is evaluated by the engine of its partition (`RuleEngine`, indexed per
symbol), each post by the process's index of post rules (`PostRuleIndex`: a keyword
may be mentioned by any author, so post rules are not placed by partition), and each
firing becomes an `alert.triggered` appended by the runtime, in the partition of the
tick or post, in the same atomic step as its acknowledgement: a firing is appended
exactly once, and an entry redelivered after a crash finds its position tracked and
fires nothing again.

Where the rules come from (`RuleBook`): the alert-rules log, read from a snapshot and
then followed live, so a rule created through the API is evaluated from the next tick
on, with no polling. Where the market state comes from when a partition's engine starts
(`_start_engine`): the firings the engine appended since the snapshot (so a once-rule
that fired just before a crash stays completed), and the partition's ticks of the last
`rules_warmup_s` before its tracked position (so crossings have a previous price and
windows are full, as if the engine had never stopped). The post index starts the same
way at the first post, from the post rules' firings in every partition.

Post rules and several processes: each `rules` process holds its own post index, so
when the posts' partitions are spread over several processes, a post rule's frequency
holds per process: two processes may each fire it within one cooldown (a once-rule:
once each). The `rule-firings` recorder keeps the rule's record right (the aggregate
refuses the extra firing); the extra alert is still delivered.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

import orjson
import structlog
from redis.exceptions import RedisError

from aggregates.rule_spec import SymbolTarget
from events.catalog import (
    AlertTriggered,
    ChainEventConfirmed,
    ChainEventObserved,
    ChainEventRetracted,
    PostScraped,
    PriceTick,
    Severity,
    SourceStale,
)
from events.codec import EVENT_ID, PAYLOAD, SCHEMA_VERSION, TYPE
from events.envelope import RecordedEvent
from events.errors import ImpressoxError
from events.position import Position
from events.redis_client import entries
from events.store import EventStore
from handlers.declaration import HandlerResult, Output, handler
from rules.chain_alerts import REVERTED_CONDITION, chain_alert, reversal_alert
from rules.chain_rules import ChainRuleIndex, Stage
from rules.context import RulesContext
from rules.engine import RuleEngine
from rules.firing import Firing, Observation, RuleState
from rules.post_alerts import post_alert
from rules.posts import PostRuleIndex
from rules.rule_book import RuleBook
from rules.rule_log import apply_alert

log = structlog.get_logger(__name__)

GROUP = "rules"
FIRINGS_LOOKBACK = timedelta(minutes=10)
"""How far before the snapshot a starting engine looks for its own firings: longer than
the firing recorder ever lags behind the alerts."""
EPOCH = datetime.fromtimestamp(0, UTC)
WARMUP_PAGE = 5000
TICK_TYPE = PriceTick.event_type.encode()
TICK_VERSION = str(PriceTick.schema_version).encode()
STALE_CONDITION = "source_stale"
"""The condition of the alert telling a rule's owner its prices stopped coming."""
NOTICE_CONDITIONS = frozenset({STALE_CONDITION, REVERTED_CONDITION})
"""Alerts that are notices to a rule's owner, not firings of the rule."""


def observation(recorded: RecordedEvent, tick: PriceTick) -> Observation:
    return Observation(
        symbol=tick.symbol,
        venue=tick.venue,
        price=tick.price,
        volume=tick.volume,
        at=tick.source_time,
        event_id=recorded.event.event_id,
    )


def _observation_of(fields: dict[bytes, bytes]) -> Observation:
    tick = orjson.loads(fields[PAYLOAD])
    return Observation(
        symbol=tick["symbol"],
        venue=tick["venue"],
        price=float(tick["price"]),
        volume=float(tick.get("volume", 0.0)),
        at=datetime.fromisoformat(tick["source_time"]),
        event_id=UUID(fields[EVENT_ID].decode()),
    )


def alert_of(firing: Firing) -> AlertTriggered:
    return AlertTriggered.model_construct(
        rule_id=firing.rule_id,
        user_id=firing.owner_id,
        subject=firing.symbol,
        condition=firing.condition,
        severity=cast(Severity, firing.severity),
        message=firing.message,
        values={"price": firing.price, "value": firing.value, **firing.values},
        trigger_event_id=firing.tick_event_id,
        triggered_at=firing.at,
        channels=firing.channels,
    )


@handler(
    GROUP,
    categories=["ticks", "posts", "chain"],
    types=[
        PriceTick,
        SourceStale,
        PostScraped,
        ChainEventObserved,
        ChainEventConfirmed,
        ChainEventRetracted,
    ],
    context=RulesContext,
)
class RuleEvaluation:
    """One price engine per partition this process owns, one post index and one chain
    index, all fed by one `RuleBook`."""

    def __init__(self, context: RulesContext) -> None:
        self.store = context.store
        self.book = RuleBook(context.store, context.alert_rules, context.snapshot_every_s)
        self.warmup = timedelta(seconds=context.warmup_s)
        self._starting: dict[str, asyncio.Lock] = {}
        self._starting_posts = asyncio.Lock()
        self._starting_chain = asyncio.Lock()

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        if isinstance(payload, PostScraped):
            return await self._post(recorded, payload)
        if isinstance(payload, SourceStale):
            return await self._say_stale(recorded, payload)
        if isinstance(payload, ChainEventObserved | ChainEventConfirmed | ChainEventRetracted):
            return await self._chain(recorded, payload)
        if not isinstance(payload, PriceTick):
            raise TypeError(f"expected a price.tick, got {recorded.event.type}")
        tag = self.store.names.tag_of(recorded.stream)
        engine = self.book.engines.get(tag)
        if engine is None:  # not `or`: an engine without rules is falsy (len 0)
            engine = await self._start_engine(tag, recorded.stream)
        firings = engine.evaluate(observation(recorded, payload))
        return [
            Output("alerts", recorded.event.caused(alert_of(firing), key=payload.symbol))
            for firing in firings
        ]

    async def _post(self, recorded: RecordedEvent, post: PostScraped) -> HandlerResult:
        """The post against the post rules; it happens when it arrived (its position)."""
        index = self.book.posts
        if index is None:  # not `or`: an index without rules is falsy (len 0)
            index = await self._start_posts()
        key = recorded.event.key
        outputs = []
        for firing in index.evaluate(post, recorded.position.time):
            alert = post_alert(firing, post, recorded.event.event_id, key)
            outputs.append(Output("alerts", recorded.event.caused(alert, key=key)))
        return outputs

    async def _chain(
        self,
        recorded: RecordedEvent,
        payload: ChainEventObserved | ChainEventConfirmed | ChainEventRetracted,
    ) -> HandlerResult:
        """A chain event against the chain rules: it happens when it arrived (its position).
        An observation's id is its own event id; a confirmation or retraction names it."""
        index = self.book.chain
        if index is None:  # not `or`: an index without rules is falsy (len 0)
            index = await self._start_chain()
        event, record = recorded.event, payload.record
        key, arrived_at = event.key, recorded.position.time
        alerts: list[AlertTriggered]
        if isinstance(payload, ChainEventRetracted):
            reversals = index.retract(payload.observation_id, arrived_at)
            alerts = [
                reversal_alert(reversal, record, payload.observation_id, event.event_id, key)
                for reversal in reversals
            ]
        else:
            observation_id = (
                event.event_id
                if isinstance(payload, ChainEventObserved)
                else payload.observation_id
            )
            stage: Stage = "observed" if isinstance(payload, ChainEventObserved) else "confirmed"
            alerts = [
                chain_alert(
                    firing,
                    record,
                    stage=stage,
                    observation_id=observation_id,
                    event_id=event.event_id,
                    key=key,
                )
                for firing in index.evaluate(record, stage, observation_id, arrived_at)
            ]
        return [Output("alerts", event.caused(alert, key=key)) for alert in alerts]

    async def _start_chain(self) -> ChainRuleIndex:
        """The chain index, from the chain rules and their firings in every partition (so
        a once-rule stays completed, and a reorg after a restart is still told)."""
        async with self._starting_chain:
            if self.book.chain is not None:
                return self.book.chain
            await self.book.ready()
            tags = self.store.names.partition_tags()
            alerts = [alert for tag in tags for alert in await self._own_firings(tag)]
            # No await from here on: see `_start_engine`.
            index = ChainRuleIndex()
            rules = self.book.chain_rules()
            for alert in sorted(alerts, key=lambda alert: alert.triggered_at):
                held = rules.get(alert.rule_id)
                if held is None:
                    continue
                rules[alert.rule_id] = apply_alert(held, alert) or held
                observation_id = alert.values.get("observation_id")
                if isinstance(observation_id, str):
                    index.remember(UUID(observation_id), alert.rule_id)
            for state in rules.values():
                index.upsert(state)
            self.book.chain = index
            log.info("chain rules started", rules=len(index), firings_recovered=len(alerts))
            return index

    async def _start_posts(self) -> PostRuleIndex:
        async with self._starting_posts:
            if self.book.posts is not None:
                return self.book.posts
            await self.book.ready()
            tags = self.store.names.partition_tags()
            alerts = [alert for tag in tags for alert in await self._own_firings(tag)]
            # No await from here on: see `_start_engine`.
            index = PostRuleIndex()
            rules = self.book.post_rules()
            for alert in sorted(alerts, key=lambda alert: alert.triggered_at):
                held = rules.get(alert.rule_id)
                if held is not None:
                    rules[alert.rule_id] = apply_alert(held, alert) or held
            for state in rules.values():
                index.upsert(state)
            self.book.posts = index
            log.info("post rules started", rules=len(index), firings_recovered=len(alerts))
            return index

    async def _say_stale(self, recorded: RecordedEvent, stale: SourceStale) -> HandlerResult:
        """Tell the owner of every live rule on the symbol that it cannot fire for now."""
        await self.book.ready()
        silent_s = (stale.at - stale.silent_since).total_seconds()
        outputs = []
        rules = self.book.rules_of_partition(self.store.names.tag_of(recorded.stream))
        for state in rules.values():
            target = state.spec.target
            if state.status != "active" or not isinstance(target, SymbolTarget):
                continue
            if target.symbol != stale.symbol or target.venue not in (None, stale.venue):
                continue
            alert = AlertTriggered(
                rule_id=state.rule_id,
                user_id=state.owner_id,
                subject=stale.symbol,
                condition=STALE_CONDITION,
                severity="warning",
                message=f"No {stale.symbol} price from {stale.source} ({stale.venue}) for"
                f" {silent_s:.0f} s: {state.spec.name or 'your rule'} cannot fire until"
                " prices resume.",
                values={"silent_s": silent_s},
                trigger_event_id=recorded.event.event_id,
                triggered_at=stale.at,
                channels=tuple(state.spec.channels),
            )
            outputs.append(Output("alerts", recorded.event.caused(alert, key=stale.symbol)))
        return outputs

    async def _start_engine(self, tag: str, ticks_stream: str) -> RuleEngine:
        async with self._starting.setdefault(tag, asyncio.Lock()):
            engine = self.book.engines.get(tag)
            if engine is not None:
                return engine
            started = asyncio.get_running_loop().time()
            await self.book.ready()
            tracked = await tracked_position(self.store, tag, ticks_stream)
            alerts = await self._own_firings(tag)
            warmup = await self._warmup_ticks(ticks_stream, tracked)
            # From here to the end, no await: the book's feed cannot slip a rule change
            # between the states read and the engine joining the book.
            engine = RuleEngine()
            rules = self.book.rules_of_partition(tag)
            for alert in alerts:
                held = rules.get(alert.rule_id)
                if held is not None:
                    rules[alert.rule_id] = apply_alert(held, alert) or held
            for state in rules.values():
                engine.upsert(state)
            self._warm_up(engine, warmup, rules)
            self.book.engines[tag] = engine
            log.info(
                "rule engine started",
                partition=tag,
                rules=len(engine),
                warmup_ticks=len(warmup),
                firings_recovered=len(alerts),
                seconds=round(asyncio.get_running_loop().time() - started, 3),
            )
            return engine

    def partition_stopped(self, tag: str) -> None:
        """Another process may handle the partition meanwhile: start afresh if it returns."""
        self.book.engines.pop(tag, None)

    async def aclose(self) -> None:
        """Save the rules read so far, so the next start reads less of the log."""
        try:
            await self.book.save()
        except RedisError as error:
            log.warning("rules snapshot not saved at shutdown", error=str(error))
        await self.book.close()

    async def _own_firings(self, tag: str) -> list[AlertTriggered]:
        """The firings in partition `tag` since shortly before the snapshot (notices that
        a source went silent or a reorg undid an event are alerts, not firings). An alert
        that does not decode is passed over: the alerts' own handlers dead-letter it, and
        failing on it here would stop every tick of the partition."""
        since = max(self.book.snapshot_time - FIRINGS_LOOKBACK, EPOCH)
        stream = self.store.names.stream(tag, "alerts")
        return [
            recorded.event.payload
            async for recorded in self.store.read_stream(
                stream, start=since, types=[AlertTriggered.event_type], on_invalid=_skipped
            )
            if isinstance(recorded.event.payload, AlertTriggered)
            and recorded.event.payload.condition not in NOTICE_CONDITIONS
        ]

    async def _warmup_ticks(self, stream: str, tracked: Position | None) -> list[Observation]:
        """The ticks of `stream` in the warm-up before `tracked`, read straight from their
        fields: they were validated when appended, and validating tens of thousands of
        them again would be most of what a restart costs."""
        if tracked is None or not self.warmup:
            return []
        low = str(Position.at_time(max(tracked.time - self.warmup, EPOCH)))
        ticks: list[Observation] = []
        while True:
            page = entries(await self.store.redis.xrange(stream, low, str(tracked), WARMUP_PAGE))
            for _, fields in page:
                if fields.get(TYPE) == TICK_TYPE and fields.get(SCHEMA_VERSION) == TICK_VERSION:
                    ticks.append(_observation_of(fields))
            if len(page) < WARMUP_PAGE:
                return ticks
            low = "(" + page[-1][0].decode()

    @staticmethod
    def _warm_up(
        engine: RuleEngine, ticks: list[Observation], rules: dict[UUID, RuleState]
    ) -> None:
        """Replay ticks already handled, for the market state only. A rule they made fire
        fired then for real (and its alert was recovered), unless it did not exist yet:
        such a rule is put back as it truly is, armed from the next tick."""
        replayed: set[UUID] = set()
        for tick in ticks:
            replayed.update(firing.rule_id for firing in engine.evaluate(tick))
        held = {state.rule_id: state for state in engine.rules()}
        for rule_id in replayed:
            truth = rules.get(rule_id)
            if truth is not None and held.get(rule_id) != truth:
                engine.remove(rule_id)
                engine.upsert(truth)


def _skipped(stream: str, position: Position, error: ImpressoxError) -> None:
    log.warning(
        "undecodable alert passed over", stream=stream, position=str(position), error=str(error)
    )


async def tracked_position(store: EventStore, tag: str, stream: str) -> Position | None:
    """The last tick of `stream` the rules group committed (None: none yet)."""
    raw = await store.redis.hget(store.names.tracking(tag, GROUP), stream)
    return Position.parse(raw.decode() if isinstance(raw, bytes) else raw) if raw else None
