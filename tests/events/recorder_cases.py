"""The eventsourcing library's own recorder test cases, bound to our Redis recorders.

Each class here still needs a Redis: the test modules mix in a fixture that provides
`self.client` and `self.names` (one node in tests/events, a cluster in tests/cluster).
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder, TrackingRecorder
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)

from events.eventsourcing_redis.recorders import (
    RedisAggregateRecorder,
    RedisApplicationRecorder,
    RedisProcessRecorder,
    RedisTrackingRecorder,
)
from events.names import StreamNames
from events.redis_client import SyncRedisClient

TAG = "app.conformance"


class RedisBound:
    """Provided by the test module's fixture. Not collected until bound to a Redis."""

    __test__ = False
    client: SyncRedisClient
    names: StreamNames


class AggregateRecorderCase(RedisBound, AggregateRecorderTestCase):
    def create_recorder(self) -> RedisAggregateRecorder:
        return RedisAggregateRecorder(self.client, self.names, TAG)


class ApplicationRecorderCase(RedisBound, ApplicationRecorderTestCase[RedisApplicationRecorder]):
    def create_recorder(self) -> RedisApplicationRecorder:
        return RedisApplicationRecorder(self.client, self.names, TAG)

    def test_insert_subscribe(self) -> None:
        """The library marks this case optional; our recorder supports subscriptions."""
        self.optional_test_insert_subscribe()


class TrackingRecorderCase(RedisBound, TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return RedisTrackingRecorder(self.client, self.names, TAG)


class ProcessRecorderCase(RedisBound, ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return RedisProcessRecorder(self.client, self.names, TAG)


class NonInterleavingCase(RedisBound, NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> ApplicationRecorder:
        return RedisApplicationRecorder(self.client, self.names, TAG)
