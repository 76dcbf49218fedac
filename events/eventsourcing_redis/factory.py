"""The infrastructure factory the library finds through PERSISTENCE_MODULE."""

from __future__ import annotations

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    InfrastructureFactoryError,
    ProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic

from events.eventsourcing_redis.recorders import (
    RedisAggregateRecorder,
    RedisApplicationRecorder,
    RedisProcessRecorder,
    RedisTrackingRecorder,
)
from events.names import StreamNames
from events.redis_client import sync_client


class RedisFactory(InfrastructureFactory[RedisTrackingRecorder]):
    """Recorders on Redis Streams for one application.

    Reads REDIS_URL (required) and IMPRESSOX_STREAM_PREFIX (default ``ix``), each also
    as ``<APPLICATION NAME>_...`` for a per-application value, as the library does.
    """

    REDIS_URL = "REDIS_URL"
    STREAM_PREFIX = "IMPRESSOX_STREAM_PREFIX"

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        url = self.env.get(self.REDIS_URL)
        if not url:
            msg = f"{self.REDIS_URL} is not set: it names the Redis that holds the events"
            raise InfrastructureFactoryError(msg)
        self.client = sync_client(url)
        self.names = StreamNames(self.env.get(self.STREAM_PREFIX) or "ix")
        self.tag = self.names.application_tag(self.env.name or "default")

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return RedisAggregateRecorder(self.client, self.names, self.tag, purpose)

    def application_recorder(self) -> ApplicationRecorder:
        return RedisApplicationRecorder(self.client, self.names, self.tag)

    def tracking_recorder(
        self, tracking_recorder_class: type[RedisTrackingRecorder] | None = None
    ) -> RedisTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else RedisTrackingRecorder
        assert tracking_recorder_class is not None
        return tracking_recorder_class(self.client, self.names, self.tag)

    def process_recorder(self) -> ProcessRecorder:
        return RedisProcessRecorder(self.client, self.names, self.tag)

    def close(self) -> None:
        self.client.close()
