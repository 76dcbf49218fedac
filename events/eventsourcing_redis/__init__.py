"""A persistence module for the `eventsourcing` library, on Redis Streams.

Select it with ``PERSISTENCE_MODULE=events.eventsourcing_redis`` and ``REDIS_URL``
(optionally ``IMPRESSOX_STREAM_PREFIX``); the library's application name picks the
hash tag, so each application's events, log and tracking share one Redis Cluster slot.
"""

from events.eventsourcing_redis.factory import RedisFactory

__all__ = ["RedisFactory"]
