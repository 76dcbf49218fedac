"""Prometheus metrics from Redis: lag, pending and counters per group and partition.

A snapshot is refreshed by a task on the worker's event loop (Redis is asynchronous
for us, Prometheus collection is not); scrapes read the latest snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from events.names import StreamNames
from events.redis_client import RedisClient
from handlers.monitoring import StreamStatus, system_status

log = structlog.get_logger(__name__)


class StreamsCollector(Collector):
    """Exports the latest `system_status` snapshot; partitions waiting `stall_after_s`
    without advancing are stalled (see `handlers.monitoring`)."""

    def __init__(self, *, stall_after_s: float) -> None:
        self.snapshot: list[StreamStatus] = []
        self.stall_after_s = stall_after_s

    def collect(self) -> Iterator[Metric]:
        length = GaugeMetricFamily(
            "impressox_stream_length", "Entries in the stream.", labels=["stream"]
        )
        lag = GaugeMetricFamily(
            "impressox_group_lag",
            "Entries not yet delivered to the group.",
            labels=["group", "stream"],
        )
        pending = GaugeMetricFamily(
            "impressox_group_pending",
            "Entries delivered but not acknowledged.",
            labels=["group", "stream"],
        )
        counters = {
            name: CounterMetricFamily(f"impressox_group_{name}", text, labels=["group", "stream"])
            for name, text in (
                ("processed", "Entries handled and committed."),
                ("failed", "Failed handler attempts (each retry counts)."),
                ("dead_lettered", "Entries moved to the dead-letter stream."),
                (
                    "duplicates",
                    "Redeliveries of already committed entries, acknowledged without effect.",
                ),
            )
        }
        waiting = GaugeMetricFamily(
            "impressox_group_waiting_seconds",
            "How long work has waited for the group without its partition advancing"
            " (0: none waits).",
            labels=["group", "stream"],
        )
        stalled = GaugeMetricFamily(
            "impressox_group_stalled",
            "1 when the group's partition has waited IMPRESSOX_STALL_AFTER_S without advancing.",
            labels=["group", "stream"],
        )
        for stream in self.snapshot:
            length.add_metric([stream.stream], stream.length)
            for group in stream.groups:
                labels = [group.group, stream.stream]
                lag.add_metric(labels, group.lag or 0)
                pending.add_metric(labels, group.pending)
                waiting.add_metric(labels, group.waiting_s or 0.0)
                stalled.add_metric(labels, int(group.stalled(self.stall_after_s)))
                for name, family in counters.items():
                    family.add_metric(labels, getattr(group, name))
        yield length
        yield lag
        yield pending
        yield waiting
        yield stalled
        yield from counters.values()


async def refresh_forever(
    collector: StreamsCollector,
    redis: RedisClient,
    names: StreamNames,
    *,
    groups: set[str] | None,
    interval_s: float = 5.0,
) -> None:
    """Keep the collector's snapshot fresh until cancelled."""
    while True:
        try:
            collector.snapshot = await system_status(redis, names, groups=groups)
        except RedisError as error:
            log.warning("cannot refresh stream metrics", error=str(error))
        await asyncio.sleep(interval_s)
