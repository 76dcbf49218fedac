"""A worker runs one handler: its consumer groups, its membership, its partitions.

The worker loop never blocks on a partition: every `renew_interval` it renews its
membership and leases, starts partitions the assignment gives it, and asks partitions
the assignment took away to finish their batch and hand over. Each partition runs as
its own task (see `handlers.partition`).

Shutdown (SIGTERM, SIGINT, or `stop` set by the caller):

1. Every partition stops reading and finishes the batch in hand, within
   `shutdown_timeout_s`; leases are renewed meanwhile.
2. Partitions still busy after that are cancelled: their uncommitted entries stay
   pending and are adopted by the next owner, so nothing is lost.
3. Leases are released and membership withdrawn, so other workers take over at once
   instead of after the lease time to live.

A Redis outage stops nothing: the worker waits for Redis at start, keeps renewing
(and failing quietly) while it is away, and its partitions wait in place (see
`handlers.partition`); the outage is logged once, and so is Redis's return.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import structlog
from redis.exceptions import RedisError, ResponseError

from events.backoff import Backoff
from events.errors import LeaseLostError, RegistryError
from events.outages import outage, redis_unavailable
from events.stopping import sleep_unless_stopped
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.dead_letter_ops import retry_stream
from handlers.declaration import HandlerContext, HandlerSpec
from handlers.leases import Membership
from handlers.monitoring import group_backlog
from handlers.partition import PartitionWorker

log = structlog.get_logger(__name__)

RESTART_BACKOFF = Backoff(1.0, 30.0)
"""A failed partition starts again after 1 s, doubling to 30 s."""


def consumer_name(group: str) -> str:
    """A consumer name unique to this process: host, pid and a random suffix."""
    return f"{group}@{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class _Running:
    """A partition task, how to stop it, and whether to give its lease back after."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    release: bool = False
    task: asyncio.Task[None] = field(init=False)


class Worker:
    """Runs one handler's partitions in this process, sharing them with other workers."""

    def __init__(
        self,
        spec: HandlerSpec,
        store: EventStore,
        config: RuntimeConfig,
        context: HandlerContext | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.config = config
        self.consumer = consumer_name(spec.name)
        context = context or HandlerContext(store)
        if not isinstance(context, spec.context):
            raise RegistryError(
                f"handler {spec.name!r} takes a {spec.context.__name__},"
                f" not a {type(context).__name__}: build it with the composition root"
            )
        self.handler = spec.factory(context)
        self.membership = Membership(
            store.redis, store.names, spec.name, self.consumer, config.lease_ttl_ms
        )
        self.tags = list(spec.tags) if spec.tags else store.names.partition_tags()
        self.log = log.bind(handler=spec.name, consumer=self.consumer)
        self._partitions: dict[str, _Running] = {}
        self._not_before: dict[str, tuple[float, int]] = {}
        """Per failed partition: when it may start again, and its failures in a row."""
        self._redis = outage("Redis")

    @property
    def owned(self) -> list[str]:
        """Partitions this worker is processing now."""
        return sorted(self._partitions)

    async def ensure_groups(self) -> None:
        """Create the handler's consumer group on every stream it reads (idempotent).

        Its retry stream is read from the beginning whatever `start_from` says: what is
        there was retried on purpose, maybe before any worker of the handler ran.
        """
        start = "0" if self.spec.start_from == "beginning" else "$"
        retries = set(self._retry_streams())
        for stream in self.streams():
            first = "0" if stream in retries else start
            try:
                await self.store.redis.xgroup_create(stream, self.spec.name, first, mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def streams(self) -> list[str]:
        """Every stream this handler reads: its categories and its retry stream, in each
        partition."""
        names = self.store.names
        categories = [names.stream(tag, c) for tag in self.tags for c in self.spec.categories]
        return [*categories, *self._retry_streams()]

    def _retry_streams(self) -> list[str]:
        return [retry_stream(self.store.names, tag, self.spec.name) for tag in self.tags]

    async def drained(self) -> bool:
        """Whether the group has handled everything appended to its streams so far."""
        try:
            return await group_backlog(self.store.redis, self.streams(), self.spec.name) == 0
        except RedisError as error:
            if not redis_unavailable(error):
                raise
            return False

    async def run(self, stop: asyncio.Event, *, drain: bool = False) -> None:
        """Work until `stop` is set, then shut down gracefully. With `drain` (arq's burst
        mode), also stop as soon as its streams hold nothing it has not handled: a test,
        or a one-off catch-up, waits for that instead of polling for its effects."""
        while True:
            try:
                await self.ensure_groups()
                break
            except RedisError as error:
                if not redis_unavailable(error):
                    raise
                if await self._redis.wait(error, stop):
                    return
        self._redis.succeeded()
        self.log.info("worker started", partitions=len(self.tags))
        try:
            while not stop.is_set():
                await self._rebalance()
                if drain and await self.drained():
                    self.log.info("drained")
                    break
                await sleep_unless_stopped(stop, self.config.renew_interval_s)
        finally:
            await asyncio.shield(self._shutdown())

    async def _rebalance(self) -> None:
        try:
            live = await self.membership.heartbeat()
            self._reap()
            wanted = set(self.membership.assigned(live, self.tags))
            for tag, running in list(self._partitions.items()):
                if tag not in wanted and not running.release:
                    self.log.info("handing partition over", partition=tag)
                    running.release = True
                    running.stop.set()
                elif not await self.membership.claim(tag):
                    self.log.warning("lease lost", partition=tag)
                    running.stop.set()
            for tag in sorted(wanted - set(self._partitions)):
                if time.monotonic() >= self._not_before.get(tag, (0.0, 0.0))[0]:
                    await self._start(tag)
        except RedisError as error:
            if redis_unavailable(error):
                self._redis.failed(error)
            else:
                self.log.warning("cannot renew membership; retrying", error=str(error))
        else:
            self._redis.succeeded()

    async def _start(self, tag: str) -> None:
        if not await self.membership.claim(tag):
            return  # still held by its previous owner; its lease will expire or be released
        running = _Running()
        running.task = asyncio.create_task(
            self._run_partition(tag, running), name=f"{self.spec.name}:{tag}"
        )
        self._partitions[tag] = running
        self.log.info("partition started", partition=tag)

    async def _run_partition(self, tag: str, running: _Running) -> None:
        worker = PartitionWorker(
            spec=self.spec,
            handler=self.handler,
            store=self.store,
            config=self.config,
            tag=tag,
            consumer=self.consumer,
        )
        try:
            await worker.run(running.stop)
            self._not_before.pop(tag, None)
        except LeaseLostError:
            self.log.warning("lease lost while committing; another consumer owns it", partition=tag)
        except Exception as error:
            if redis_unavailable(error):
                self._redis.failed(error)  # not the partition's fault: taken up on the next round
            else:
                self._back_off(tag)
        finally:
            stopped = getattr(self.handler, "partition_stopped", None)
            if stopped is not None:
                stopped(tag)
            if running.release:
                await asyncio.shield(self._release_quietly(tag))

    def _back_off(self, tag: str) -> None:
        """A partition failed (a bug, not an outage): start it again later and later."""
        failures = self._not_before.get(tag, (0.0, 0))[1] + 1
        delay = RESTART_BACKOFF.delay_s(failures)
        self._not_before[tag] = (time.monotonic() + delay, failures)
        self.log.exception("partition failed; restarting", partition=tag, restart_in_s=delay)

    def _reap(self) -> None:
        for tag, running in list(self._partitions.items()):
            if running.task.done():
                del self._partitions[tag]

    async def _release_quietly(self, tag: str) -> None:
        try:
            await self.membership.release(tag)
        except RedisError as error:
            self.log.warning(
                "could not release lease; it will expire", partition=tag, error=str(error)
            )

    async def _shutdown(self) -> None:
        for running in self._partitions.values():
            running.release = True
            running.stop.set()
        deadline = time.monotonic() + self.config.shutdown_timeout_s
        while self._partitions and time.monotonic() < deadline:
            pending = [running.task for running in self._partitions.values()]
            await asyncio.wait(
                pending, timeout=min(self.config.renew_interval_s, deadline - time.monotonic())
            )
            self._reap()
            for tag in self._partitions:
                await _ignore_redis_errors(self.membership.claim(tag))
        for tag, running in list(self._partitions.items()):
            self.log.warning("cancelling partition after shutdown timeout", partition=tag)
            running.task.cancel()
        if self._partitions:
            await asyncio.gather(
                *(r.task for r in self._partitions.values()), return_exceptions=True
            )
            for tag in list(self._partitions):
                await self._release_quietly(tag)
            self._partitions.clear()
        await _ignore_redis_errors(self.membership.leave())
        close = getattr(self.handler, "aclose", None)
        if close is not None:
            await close()
        self.log.info("worker stopped")


async def _ignore_redis_errors(step: Awaitable[object]) -> None:
    try:
        await step
    except RedisError as error:
        log.warning("cleanup step failed", error=str(error))
