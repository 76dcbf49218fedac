"""The eventsourcing library's recorder test cases on the Redis Cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.cluster import RedisCluster

from events.names import StreamNames
from events.redis_client import sync_client
from tests.events.recorder_cases import (
    AggregateRecorderCase,
    ApplicationRecorderCase,
    NonInterleavingCase,
    ProcessRecorderCase,
    TrackingRecorderCase,
)


class OnCluster:
    """A synchronous cluster client and a key prefix of the test's own."""

    __test__ = True

    @pytest.fixture(autouse=True)
    def _cluster(self, cluster_url: str, prefix: str) -> Iterator[None]:
        self.client = sync_client(cluster_url)
        assert isinstance(self.client, RedisCluster)
        self.names = StreamNames(prefix)
        yield
        for key in self.client.scan_iter(match=f"{prefix}:*", count=1000):
            self.client.delete(key)
        self.client.close()


class TestAggregateRecorderOnCluster(OnCluster, AggregateRecorderCase):
    pass


class TestApplicationRecorderOnCluster(OnCluster, ApplicationRecorderCase):
    pass


class TestTrackingRecorderOnCluster(OnCluster, TrackingRecorderCase):
    pass


class TestProcessRecorderOnCluster(OnCluster, ProcessRecorderCase):
    pass


class TestNonInterleavingOnCluster(OnCluster, NonInterleavingCase):
    pass
