"""Holding deliveries for later (quiet hours, a channel's rate limit) without blocking.

A held alert is not waited for in its handler call: its entry is stored aside, in its
partition, scored by when it may go out, and the call returns, so the partition moves
on to other users' alerts. The hold survives restarts (it is in Redis, written before
the alert's entry is acknowledged) and is idempotent (held twice, it is held once, at
the earlier time).

Every notify worker runs a releaser: every ``IMPRESSOX_NOTIFY_RELEASE_INTERVAL_S`` it
moves the due alerts of every partition to the notify handler's retry stream, one
script per partition that appends and un-holds together, so each is released once.
The runtime then hands the alert to the handler again like any redelivery: channels
already delivered are skipped (see `notify.ledger`), the rest are delivered,
or held again if their reason still holds (quiet hours changed meanwhile, say).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from redis.exceptions import RedisError

from events.codec import encode
from events.envelope import Event
from events.lua import pack, register
from events.names import StreamNames
from events.outages import outage, redis_unavailable
from events.redis_client import RedisClient, text
from handlers.dead_letter_ops import retry_stream
from notify.clock import Clock, to_ms
from notify.keys import HANDLER, NotifyKeys

log = structlog.get_logger(__name__)

RELEASE_BATCH = 100
"""Alerts released per partition per script call."""


class Holds:
    def __init__(self, redis: RedisClient, keys: NotifyKeys, names: StreamNames) -> None:
        self._keys = keys
        self._names = names
        self._hold = register(redis, "notify", "notify_hold")
        self._release = register(redis, "notify", "notify_release")

    async def hold(self, tag: str, alert: Event, until: datetime) -> None:
        """Hold `alert` (an entry of partition `tag`) until `until`."""
        await self._hold(
            keys=[self._keys.held(tag), self._keys.held_entries(tag)],
            args=[str(alert.event_id), to_ms(until), pack(encode(alert))],
        )

    async def release_due(self, now: datetime) -> int:
        """Release every alert due at `now`, in every partition: how many."""
        released = 0
        for tag in self._names.partition_tags():
            while True:
                ids = await self._release(
                    keys=[
                        self._keys.held(tag),
                        self._keys.held_entries(tag),
                        retry_stream(self._names, tag, HANDLER),
                    ],
                    args=[to_ms(now), RELEASE_BATCH],
                )
                for alert_event_id in ids:
                    log.info(
                        "held alert released", partition=tag, alert_event_id=text(alert_event_id)
                    )
                released += len(ids)
                if len(ids) < RELEASE_BATCH:
                    break
        return released

    async def release_forever(self, clock: Clock, interval_s: float) -> None:
        """Release due alerts every `interval_s` until cancelled, riding out Redis outages."""
        while True:
            try:
                await self.release_due(clock())
            except RedisError as error:
                if redis_unavailable(error):
                    outage("Redis").failed(error)  # said once per outage, not per round
                else:
                    log.warning("cannot release held alerts; retrying", error=str(error))
            else:
                outage("Redis").succeeded()
            await asyncio.sleep(interval_s)
