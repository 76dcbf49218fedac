"""The rules a `rules` process knows, kept current from the alert-rules log.

One book per process: it loads the latest snapshot, reads the log after it, then follows
the log (a blocking XREAD, no polling) and hands every change to the engine of the
partition the rule's symbol routes to, or, for a post or chain rule, to the process's
one index of post rules or of chain rules (an event of any partition may fire it). A
rule whose symbol changes moves between engines. Every `rules_snapshot_s` it saves a
snapshot of what it has read, so the next start reads only the log's tail; and it
expires rules whose time has come, through the aggregate, so their status says so
everywhere.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from datetime import UTC, datetime
from uuid import UUID

import structlog
from redis.exceptions import RedisError

from aggregates.errors import DomainError
from aggregates.rule_spec import ChainTarget, PostTarget
from aggregates.services.alert_rules import AlertRules
from events.envelope import RecordedEvent
from events.outages import outage, redis_unavailable
from events.position import Position
from events.store import EventStore
from rules.chain_rules import ChainRuleIndex
from rules.engine import RuleEngine
from rules.firing import RuleState
from rules.posts import PostRuleIndex
from rules.rule_log import (
    RULE_EVENT_TYPES,
    RuleStates,
    apply_rule_event,
    rule_id_of,
    rules_log,
    symbol_of,
)
from rules.snapshots import Row, load_snapshot, row_of, save_snapshot, state_of

log = structlog.get_logger(__name__)

FOLLOW_BLOCK_MS = 1000
RETRY_DELAY_S = 1.0
EXPIRY_SWEEP_S = 30.0
SNAPSHOT_TAG = "rules"
"""The hash tag of the snapshot: one for all partitions (every process reads all rules)."""


class RuleBook:
    def __init__(self, store: EventStore, alert_rules: AlertRules, snapshot_every_s: float) -> None:
        self.store = store
        self.alert_rules = alert_rules
        self.stream = rules_log(store.names)
        self.rules: RuleStates = {}
        """Rules read: from the log, or validated from the snapshot when first needed."""
        self._unread: dict[UUID, Row] = {}
        self._unread_by_tag: dict[str, set[UUID]] = {}
        self.position = Position(0, 0)
        self.snapshot_time = datetime.fromtimestamp(0, UTC)
        self.engines: dict[str, RuleEngine] = {}
        self.posts: PostRuleIndex | None = None
        """The post rules' index, once this process has handled a post."""
        self.chain: ChainRuleIndex | None = None
        """The chain rules' index, once this process has handled a chain event."""
        self.snapshot_every_s = snapshot_every_s
        self._saved_position = self.position
        self._ready = asyncio.Lock()
        self._follower: asyncio.Task[None] | None = None

    async def ready(self) -> None:
        """Load the snapshot and the log after it, once; then keep following the log."""
        async with self._ready:
            if self._follower is not None:
                return
            started = time.monotonic()
            snapshot = await load_snapshot(self.store.redis, self.store.names, SNAPSHOT_TAG)
            if snapshot is not None:
                for row in snapshot.rows:
                    self._unread[UUID(row[0])] = row
                    self._unread_by_tag.setdefault(row[6], set()).add(UUID(row[0]))
                self.position = self._saved_position = snapshot.log_position
                self.snapshot_time = datetime.fromtimestamp(snapshot.taken_ms / 1000, UTC)
            caught_up = await self._read_log()
            log.info(
                "rules loaded",
                rules=len(self.rules) + len(self._unread),
                from_snapshot=snapshot is not None,
                log_events=caught_up,
                seconds=round(time.monotonic() - started, 3),
            )
            self._follower = asyncio.create_task(
                self._follow(),
                name="rule-log-follower",
                context=contextvars.Context(),  # not the log context of the tick that woke it
            )

    def rules_of_partition(self, tag: str) -> dict[UUID, RuleState]:
        """The price rules whose symbol routes to partition `tag` (a copy)."""
        for rule_id in self._unread_by_tag.pop(tag, set()):
            self._held(rule_id)
        return {
            rule_id: state for rule_id, state in self.rules.items() if self._tag_of(state) == tag
        }

    def post_rules(self) -> dict[UUID, RuleState]:
        """The rules that watch posts (a copy): snapshot rows of rules on no symbol."""
        return self._unplaced_rules(PostTarget)

    def chain_rules(self) -> dict[UUID, RuleState]:
        """The rules that watch a chain (a copy): snapshot rows of rules on no symbol."""
        return self._unplaced_rules(ChainTarget)

    def _unplaced_rules(self, kind: type[PostTarget | ChainTarget]) -> dict[UUID, RuleState]:
        for rule_id in self._unread_by_tag.pop("", set()):
            self._held(rule_id)
        return {
            rule_id: state
            for rule_id, state in self.rules.items()
            if isinstance(state.spec.target, kind)
        }

    def _held(self, rule_id: UUID) -> RuleState | None:
        """The rule's state, validating its snapshot row first if it is still unread."""
        row = self._unread.pop(rule_id, None)
        if row is not None:
            self.rules[rule_id] = state_of(row)
        return self.rules.get(rule_id)

    def _tag_of(self, state: RuleState | None) -> str:
        symbol = symbol_of(state) if state is not None else None
        return self.store.names.tag_for_key(symbol) if symbol is not None else ""

    def apply(self, recorded: RecordedEvent) -> None:
        """One rule event: into the book, and into the engines it concerns."""
        rule_id = rule_id_of(recorded)
        held = self._held(rule_id)
        state = apply_rule_event(held, recorded)
        if state is None:
            return
        if state.status == "deleted":
            self.rules.pop(rule_id, None)
        else:
            self.rules[rule_id] = state
        before, after = self._engine_of(held), self._engine_of(state)
        if before is not None and before is not after:
            before.remove(rule_id)
        if after is not None:
            if state.status == "deleted":
                after.remove(rule_id)
            else:
                after.upsert(state)
        for index, kind in ((self.posts, PostTarget), (self.chain, ChainTarget)):
            watched = any(isinstance(s.spec.target, kind) for s in (held, state) if s)
            if index is None or not watched:
                continue
            if state.status == "deleted":
                index.remove(rule_id)
            else:
                index.upsert(state)  # which removes a rule that stopped watching `kind`

    def _engine_of(self, state: RuleState | None) -> RuleEngine | None:
        tag = self._tag_of(state)
        return self.engines.get(tag) if tag else None

    async def _read_log(self) -> int:
        """Apply the log after `position`, up to its end; how many events that was.

        Every entry is read (not only rule events), so `position` ends at the log's end
        without asking Redis for it separately."""
        count = 0
        start = Position(self.position.ms, self.position.seq + 1)
        async for recorded in self.store.read_stream(self.stream, start=start):
            if recorded.event.type in RULE_EVENT_TYPES:
                self.apply(recorded)
                count += 1
            self.position = recorded.position
        return count

    async def _follow(self) -> None:
        last_snapshot = last_sweep = time.monotonic()
        while True:
            try:
                await self.store.redis.xread(
                    {self.stream: str(self.position)}, block=FOLLOW_BLOCK_MS, count=1
                )
                await self._read_log()
                clock = time.monotonic()
                if clock - last_snapshot >= self.snapshot_every_s:
                    await self.save()
                    last_snapshot = clock
                if clock - last_sweep >= EXPIRY_SWEEP_S:
                    await self.expire_due()
                    last_sweep = clock
                outage("Redis").succeeded()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if redis_unavailable(error):
                    outage("Redis").failed(error)  # said once per outage, not per retry
                else:
                    log.warning("rules log unreachable; retrying", error=str(error))
                await asyncio.sleep(RETRY_DELAY_S)

    async def save(self) -> None:
        """Save a snapshot if the book moved since the last one."""
        if self.position == self._saved_position:
            return
        rows = [row_of(state, self._tag_of(state)) for state in self.rules.values()]
        rows += self._unread.values()
        await save_snapshot(self.store.redis, self.store.names, SNAPSHOT_TAG, rows, self.position)
        self._saved_position = self.position
        log.info("rules snapshot saved", rules=len(rows), position=str(self.position))

    async def expire_due(self) -> None:
        """Expire, through the aggregate, the active rules whose expiry has passed."""
        now = datetime.now(UTC)
        due = [
            state.rule_id
            for state in self.rules.values()
            if state.status in ("active", "paused")
            and state.spec.expires_at is not None
            and state.spec.expires_at <= now
        ]
        due += [
            rule_id
            for rule_id, row in self._unread.items()
            if row[3] in ("active", "paused") and row[7] and datetime.fromisoformat(row[7]) <= now
        ]
        if due:
            await asyncio.to_thread(_expire, self.alert_rules, due, now)

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)


def _expire(alert_rules: AlertRules, rule_ids: list[UUID], at: datetime) -> None:
    for rule_id in rule_ids:
        try:
            alert_rules.expire(rule_id, at)
        except DomainError as refusal:
            log.info("rule not expired", rule_id=str(rule_id), reason=str(refusal))
