"""Processing one partition of one handler, in order, while holding its lease.

The loop, per batch:

1. Read (`handlers.partition_reader`): first the entries this consumer already holds
   (after a takeover or a failed commit), then new ones with XREADGROUP BLOCK.
2. Handle each entry in order. A failing entry is retried here, with backoff, until it
   succeeds or has been tried `max_deliveries` times (counting deliveries to consumers
   that crashed on it); then it becomes a dead letter. Later entries wait for it, which
   is what keeps one key's events in order. An entry that cannot succeed is a dead
   letter at once, without retries: one that does not decode, and one whose outputs
   its readers could not decode (`handlers.outputs`: checked before the commit).
3. Commit the batch in one script: outputs, dead letters, tracking, XACK, counters. A
   batch handled entry by entry for longer than `COMMIT_EVERY_S` commits what it has
   done so far, so a slow batch shows progress (see "stalled" in
   `handlers.monitoring`) and early outputs are not held back by later entries.

While Redis is away (refused, reset, still loading its data after a restart) the loop
waits and starts again from the entries it holds, which a failed read may have left
pending in its name; a handler failing because Redis, or a dependency that raises
`DependencyUnavailableError`, is away waits the same way, without using up the entry's
attempts. Each outage is logged once per process (`events.outages`), not once per retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any, cast

import structlog

from events.codec import CORRELATION_ID, TYPE, decode, encode
from events.envelope import RecordedEvent
from events.errors import DependencyUnavailableError, InvalidEventError, UpcastError
from events.outages import Outage, outage, redis_unavailable
from events.position import Position
from events.stopping import sleep_unless_stopped
from events.store import EventStore
from handlers.commit import Committer, Outcome
from handlers.config import RuntimeConfig
from handlers.dead_letter_ops import retry_stream
from handlers.dead_letters import dead_letter
from handlers.declaration import BatchHandler, Handler, HandlerResult, HandlerSpec, Output
from handlers.metrics import BATCH_SECONDS, ENTRIES
from handlers.outputs import EncodedFields, InvalidOutputError, encoded_output
from handlers.partition_reader import Entry, PartitionReader

log = structlog.get_logger(__name__)

COMMIT_EVERY_S = 1.0
"""Longest a batch handled entry by entry goes without committing what it has done."""


class PartitionWorker:
    """Runs `handler` over partition `tag` until told to stop or the lease is lost."""

    def __init__(
        self,
        *,
        spec: HandlerSpec,
        handler: Handler | BatchHandler,
        store: EventStore,
        config: RuntimeConfig,
        tag: str,
        consumer: str,
    ) -> None:
        self.spec = spec
        self.handler = handler
        self._batch_handler = handler if isinstance(handler, BatchHandler) else None
        self.store = store
        self.config = config
        self.tag = tag
        self.consumer = consumer
        names = store.names
        streams = [names.stream(tag, category) for category in spec.categories]
        streams.append(retry_stream(names, tag, spec.name))  # its retried dead letters
        self.reader = PartitionReader(
            store.redis,
            names,
            group=spec.name,
            consumer=consumer,
            tag=tag,
            streams=streams,
            batch_size=config.batch_size,
            block_ms=config.block_ms,
        )
        self.dead_stream = names.dead_letters(tag, spec.name)
        self.committer = Committer(store.redis, names, spec.name, tag)
        self._types = None if spec.types is None else {name.encode() for name in spec.types}
        self._output_streams: dict[str, str] = {}
        self._redis = outage("Redis")
        self.log = log.bind(handler=spec.name, partition=tag, consumer=consumer)

    async def run(self, stop: asyncio.Event) -> None:
        """Process until `stop` is set; raises `LeaseLostError` if another consumer took over."""
        if not await self._adopted(stop):
            return
        stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            backlog = True
            while not stop.is_set():
                try:
                    if backlog:
                        batch = await self.reader.read("0", block=None)
                        backlog = bool(batch)
                        if not batch:
                            continue
                    else:
                        read = await self.reader.read_or_stop(stopped)
                        if read is None:
                            return
                        batch = read
                    self._redis.succeeded()
                    if batch:
                        await self._process(batch, stop, recovering=backlog)
                except Exception as error:
                    if not redis_unavailable(error):
                        raise
                    backlog = True  # what a failed read delivered is pending in our name
                    if await self._redis.wait(error, stop):
                        return
        finally:
            stopped.cancel()

    # -- reading ------------------------------------------------------------------------

    async def _adopted(self, stop: asyncio.Event) -> bool:
        """Adopt the partition's pending entries, waiting through a Redis outage; False
        if told to stop first."""
        while not stop.is_set():
            try:
                await self.reader.adopt_pending()
            except Exception as error:
                if not redis_unavailable(error):
                    raise
                if await self._redis.wait(error, stop):
                    return False
            else:
                self._redis.succeeded()
                return True
        return False

    # -- handling -----------------------------------------------------------------------

    async def _process(self, batch: list[Entry], stop: asyncio.Event, *, recovering: bool) -> None:
        started = time.perf_counter()
        outcomes: list[Outcome] | None = None
        failed = 0
        if self._batch_handler is not None and not recovering:
            outcomes = await self._whole_batch(self._batch_handler, batch, stop)
        if outcomes is None and not stop.is_set():
            deliveries = await self.reader.deliveries(batch) if recovering else {}
            outcomes, failed = await self._one_by_one(batch, deliveries, stop)
        if outcomes or failed:
            await self._commit(outcomes or [], failed, stop)
        BATCH_SECONDS.labels(self.spec.name).observe(time.perf_counter() - started)

    async def _one_by_one(
        self, batch: list[Entry], deliveries: dict[bytes, int], stop: asyncio.Event
    ) -> tuple[list[Outcome], int]:
        """Handle each entry in order, with retries; stops early if told to stop.

        Returns what is left to commit: every `COMMIT_EVERY_S`, what is done is
        committed on the way."""
        outcomes: list[Outcome] = []
        failed = 0
        since = time.monotonic()
        for stream, entry_id, fields in batch:
            if outcomes and time.monotonic() - since >= COMMIT_EVERY_S:
                await self._commit(outcomes, failed, stop)
                outcomes, failed, since = [], 0, time.monotonic()
            if fields is None or not self._wanted(fields):
                outcomes.append(self._skipped(stream, entry_id, fields))
                continue
            outcome, failures = await self._attempt(
                stream, entry_id, fields, deliveries.get(entry_id, 1), stop
            )
            failed += failures
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes, failed

    @staticmethod
    def _skipped(stream: str, entry_id: bytes, fields: dict[bytes, bytes] | None) -> Outcome:
        """An entry deleted while pending, or of a type the handler does not read:
        acknowledged without handling."""
        return Outcome(stream, entry_id, "gone" if fields is None else "ok")

    def _wanted(self, fields: dict[bytes, bytes]) -> bool:
        type_name = fields.get(TYPE)
        return type_name is None or self._types is None or type_name in self._types

    async def _whole_batch(
        self, handler: BatchHandler, batch: list[Entry], stop: asyncio.Event
    ) -> list[Outcome] | None:
        """Handle a fresh batch in one call. None: it failed; go entry by entry instead.

        Undecodable entries become dead letters first, so they never fail the batch.
        """
        outcomes: list[Outcome] = []
        events: list[RecordedEvent] = []
        for stream, entry_id, fields in batch:
            if fields is None or not self._wanted(fields):
                outcomes.append(self._skipped(stream, entry_id, fields))
                continue
            decoded = self._decode(stream, entry_id, fields, deliveries=1)
            if isinstance(decoded, Outcome):
                outcomes.append(decoded)
                continue
            events.append(decoded)
            outcomes.append(Outcome(stream, entry_id, "ok"))
        if not events:
            return outcomes
        waits = 0
        waiting: Outage | None = None
        while True:
            try:
                async with asyncio.timeout(self.config.handler_timeout_s):
                    await handler.handle_batch(events)
                if waiting is not None:
                    waiting.succeeded()
                return outcomes
            except Exception as error:
                if (away := self._outage_of(error)) is not None:
                    waiting = away
                    waits += 1
                    if await sleep_unless_stopped(stop, self._wait_s(away, error, waits)):
                        return None
                    continue
                self.log.warning(
                    "batch failed; retrying its entries one by one",
                    error_type=type(error).__name__,
                    error=self._describe(error),
                    entries=len(events),
                )
                return None

    async def _attempt(
        self,
        stream: str,
        entry_id: bytes,
        fields: dict[bytes, bytes],
        delivery: int,
        stop: asyncio.Event,
    ) -> tuple[Outcome | None, int]:
        """Handle one entry with retries. Returns (None, failures) if stopped meanwhile."""
        position = Position.parse(entry_id)
        limit = self.config.max_deliveries
        recorded = self._ready(stream, entry_id, fields, delivery)
        if isinstance(recorded, Outcome):
            return recorded, 0
        failures = 0
        attempt = delivery
        waiting: Outage | None = None
        while True:
            try:
                # Every line the handler logs carries the correlation id. asyncio.timeout,
                # not wait_for: no task and no loop turn per event.
                tokens = structlog.contextvars.bind_contextvars(
                    correlation_id=fields.get(CORRELATION_ID, b"").decode()
                )
                try:
                    async with asyncio.timeout(self.config.handler_timeout_s):
                        result = await self._handle_one(recorded)
                finally:
                    structlog.contextvars.reset_contextvars(**tokens)
                if waiting is not None:
                    waiting.succeeded()
                return Outcome(stream, entry_id, "ok", self._outputs(result)), failures
            except InvalidOutputError as error:
                # Retrying would make the same output: the input is dead at once.
                ENTRIES.labels(self.spec.name, "failed_attempt").inc()
                return self._dead(
                    stream=stream,
                    position=position,
                    entry_id=entry_id,
                    fields=fields,
                    error_type=type(error).__name__,
                    error=str(error),
                    deliveries=attempt,
                ), failures + 1
            except Exception as error:
                if (away := self._outage_of(error)) is not None:
                    # Not the entry's fault: wait for the dependency without using up attempts.
                    waiting = away
                    if await sleep_unless_stopped(stop, self._wait_s(away, error, limit)):
                        return None, failures
                    continue
                failures += 1
                ENTRIES.labels(self.spec.name, "failed_attempt").inc()
                kind, text = type(error).__name__, self._describe(error)
                self.log.warning(
                    "handler failed",
                    stream=stream,
                    position=str(position),
                    event_id=str(recorded.event.event_id),
                    correlation_id=str(recorded.event.correlation_id),
                    attempt=attempt,
                    error_type=kind,
                    error=text,
                )
                if attempt >= limit:
                    return self._dead(
                        stream=stream,
                        position=position,
                        entry_id=entry_id,
                        fields=fields,
                        error_type=kind,
                        error=text,
                        deliveries=attempt,
                    ), failures
            if await sleep_unless_stopped(stop, self.config.retry_delay_s(attempt)):
                return None, failures
            attempt += 1

    def _outage_of(self, error: Exception) -> Outage | None:
        """The outage `error` says the handler is waiting out, if it says one.

        Redis being away (the handler's own reads and writes, the aggregates' recorders)
        counts as much as a dependency raising `DependencyUnavailableError`.
        """
        if redis_unavailable(error):
            return self._redis
        if isinstance(error, DependencyUnavailableError):
            return outage(error.dependency or f"a dependency of {self.spec.name}")
        return None

    def _wait_s(self, waiting: Outage, error: Exception, waits: int) -> float:
        """Log the outage if it starts now; Redis is retried soon (it restarts in
        seconds), remote dependencies with the handler's longer backoff."""
        soon = waiting.failed(error, handler=self.spec.name)
        return soon if waiting is self._redis else self.config.retry_delay_s(waits)

    def _ready(
        self, stream: str, entry_id: bytes, fields: dict[bytes, bytes], delivery: int
    ) -> RecordedEvent | Outcome:
        """The entry to handle, or its dead letter: delivered too often already (workers
        crashed on it), or not decodable."""
        if delivery > self.config.max_deliveries:
            reason = (
                f"delivered {delivery - 1} times without completing (did a worker crash on it?)"
            )
            return self._dead(
                stream=stream,
                position=Position.parse(entry_id),
                entry_id=entry_id,
                fields=fields,
                error_type="DeliveryLimitReached",
                error=reason,
                deliveries=delivery - 1,
            )
        return self._decode(stream, entry_id, fields, deliveries=delivery)

    def _decode(
        self, stream: str, entry_id: bytes, fields: dict[bytes, bytes], *, deliveries: int
    ) -> RecordedEvent | Outcome:
        """The entry as an event, or its dead letter: retrying cannot make it decode."""
        position = Position.parse(entry_id)
        try:
            return RecordedEvent(stream, position, decode(fields, self.store.registry))
        except (InvalidEventError, UpcastError) as poison:
            return self._dead(
                stream=stream,
                position=position,
                entry_id=entry_id,
                fields=fields,
                error_type=type(poison).__name__,
                error=str(poison),
                deliveries=deliveries,
            )

    async def _handle_one(self, recorded: RecordedEvent) -> HandlerResult:
        if self._batch_handler is not None:
            await self._batch_handler.handle_batch([recorded])
            return None
        return await cast(Handler, self.handler).handle(recorded)

    def _describe(self, error: Exception) -> str:
        if isinstance(error, TimeoutError) and not str(error):
            return (
                f"no result within {self.config.handler_timeout_s:g}s (IMPRESSOX_HANDLER_TIMEOUT_S)"
            )
        return str(error) or repr(error)

    def _outputs(self, result: HandlerResult) -> tuple[tuple[str, EncodedFields], ...]:
        """The result's outputs as entries of their streams in this partition, each
        checked as its readers will decode it (`InvalidOutputError` otherwise)."""
        if result is None:
            return ()
        if not isinstance(result, Iterable):
            raise TypeError(f"handler returned {type(result).__name__}, expected Output items")
        outputs = []
        for item in result:
            if not isinstance(item, Output):
                raise TypeError(f"handler returned {type(item).__name__}, expected Output")
            stream = self._output_streams.get(item.category)
            if stream is None:
                stream = self._output_streams[item.category] = self._output_stream(item)
            outputs.append((stream, encoded_output(item.event, self.store.registry)))
        return tuple(outputs)

    def _output_stream(self, output: Output) -> str:
        try:
            return self.store.names.stream(self.tag, output.category)
        except ValueError as error:
            raise InvalidOutputError(
                f"output {output.event.type}: category: {error}",
                output_type=output.event.type,
                field="category",
            ) from None

    def _dead(
        self,
        *,
        stream: str,
        position: Position,
        entry_id: bytes,
        fields: dict[bytes, bytes],
        error_type: str,
        error: str,
        deliveries: int,
    ) -> Outcome:
        self.log.error(
            "entry dead-lettered",
            stream=stream,
            position=str(position),
            correlation_id=fields.get(CORRELATION_ID, b"").decode(errors="replace"),
            error_type=error_type,
            error=error,
            deliveries=deliveries,
            dead_letters=self.dead_stream,
        )
        letter = dead_letter(
            handler=self.spec.name,
            stream=stream,
            position=position,
            fields=fields,
            error_type=error_type,
            error=error,
            deliveries=deliveries,
        )
        return Outcome(stream, entry_id, "dead", ((self.dead_stream, encode(letter)),))

    # -- committing ---------------------------------------------------------------------

    async def _commit(self, outcomes: list[Outcome], failed: int, stop: asyncio.Event) -> None:
        """Commit, retrying through connection trouble (a repeated commit is harmless).

        Told to stop while Redis is away, it gives up with the outage's error: the
        entries stay pending in our name and are handled again by whoever takes the
        partition next, exactly as if the shutdown timeout had cancelled us, only sooner
        (a process whose Redis is gone for good would otherwise wait out that timeout).
        """
        while True:
            try:
                result = await self.committer.commit(self.consumer, outcomes, failed)
                break
            except Exception as error:
                if not redis_unavailable(error) or await self._redis.wait(error, stop):
                    raise
        self._redis.succeeded()
        name = self.spec.name
        ENTRIES.labels(name, "processed").inc(result.processed)
        ENTRIES.labels(name, "duplicate").inc(result.duplicates)
        ENTRIES.labels(name, "dead_lettered").inc(result.dead_lettered)
