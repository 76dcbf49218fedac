"""The application services, built from settings for a process that needs them.

The eventsourcing library reads its infrastructure from an environment mapping; this is
where ours is filled in: our persistence module, the Redis URL and the key prefix.
"""

from __future__ import annotations

from aggregates.secrets import SecretBox
from aggregates.services.alert_rules import AlertRules
from aggregates.services.bundle import Services
from aggregates.services.conversations import Conversations
from aggregates.services.memory import Memories
from aggregates.services.users import Users
from aggregates.services.watches import Watches
from impressox.settings import Settings, destination_policy, secret_key

PERSISTENCE_MODULE = "events.eventsourcing_redis"


def eventsourcing_env(settings: Settings, redis_url: str) -> dict[str, str]:
    """The library's environment for our persistence module."""
    return {
        "PERSISTENCE_MODULE": PERSISTENCE_MODULE,
        "REDIS_URL": redis_url,
        "IMPRESSOX_STREAM_PREFIX": settings.stream_prefix,
    }


def build_services(settings: Settings, redis_url: str) -> Services:
    env = eventsourcing_env(settings, redis_url)
    destinations = destination_policy(settings)
    return Services(
        users=Users(
            env,
            secret_box=SecretBox(secret_key(settings)),
            max_api_keys=settings.max_api_keys_per_user,
            destinations=destinations,
        ),
        alert_rules=AlertRules(env),
        conversations=Conversations(env),
        watches=Watches(env, destinations=destinations),
        memory=Memories(env),
    )
