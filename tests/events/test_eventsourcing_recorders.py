"""Conformance: the eventsourcing library's recorder test cases, unmodified, on Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.tests.persistence import InfrastructureFactoryTestCase
from eventsourcing.utils import Environment

from events.eventsourcing_redis import RedisFactory
from events.eventsourcing_redis.recorders import (
    RedisAggregateRecorder,
    RedisApplicationRecorder,
    RedisProcessRecorder,
    RedisTrackingRecorder,
)
from events.names import StreamNames
from events.redis_client import sync_client
from tests.events.recorder_cases import (
    AggregateRecorderCase,
    ApplicationRecorderCase,
    NonInterleavingCase,
    ProcessRecorderCase,
    TrackingRecorderCase,
)


class OnOneNode:
    """A synchronous client of the session's Redis and a key prefix of the test's own."""

    __test__ = True

    @pytest.fixture(autouse=True)
    def _redis(self, redis_url: str, prefix: str) -> Iterator[None]:
        self.client = sync_client(redis_url)
        self.names = StreamNames(prefix)
        yield
        for key in self.client.scan_iter(match=f"{prefix}:*", count=1000):
            self.client.delete(key)
        self.client.close()


class TestAggregateRecorder(OnOneNode, AggregateRecorderCase):
    pass


class TestApplicationRecorder(OnOneNode, ApplicationRecorderCase):
    pass


class TestTrackingRecorder(OnOneNode, TrackingRecorderCase):
    pass


class TestProcessRecorder(OnOneNode, ProcessRecorderCase):
    pass


class TestNonInterleavingNotificationIDs(OnOneNode, NonInterleavingCase):
    pass


class CustomTrackingRecorder(RedisTrackingRecorder):
    """A subclass the factory must construct when asked for it by class or topic."""


class TestInfrastructureFactory(InfrastructureFactoryTestCase[RedisFactory]):
    @pytest.fixture(autouse=True)
    def _environment(self, redis_url: str, prefix: str) -> None:
        self.env = Environment(
            "FactoryTest",
            {
                "PERSISTENCE_MODULE": "events.eventsourcing_redis",
                "REDIS_URL": redis_url,
                "IMPRESSOX_STREAM_PREFIX": prefix,
            },
        )

    def expected_factory_class(self) -> type[RedisFactory]:
        return RedisFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return RedisAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return RedisApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return RedisTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return CustomTrackingRecorder

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return RedisProcessRecorder
