"""The first admin key of a deployment, created on its first start and shown once.

Every API call needs a key, and keys are issued through the API or the CLI: a fresh
system needs one to begin with. `ensure_admin_key` creates an admin user and key the
first time it runs against a Redis, and records that it did in Redis
(``<prefix>:bootstrap:admin``, holding the admin's user id, never the token) with
SET NX, so two processes starting at once create one admin between them.
"""

from __future__ import annotations

from uuid import UUID

from events.redis_client import sync_client
from impressox.services import build_services
from impressox.settings import Settings

ADMIN_DISPLAY_NAME = "admin"
BOOTSTRAP_KEY_NAME = "bootstrap"


def bootstrap_record(settings: Settings) -> str:
    """The Redis key recording the bootstrap admin's user id."""
    return f"{settings.stream_prefix}:bootstrap:admin"


def ensure_admin_key(settings: Settings, redis_url: str) -> str | None:
    """The token of a new admin key on the deployment's first run; None ever after.

    1. If the record names a user who has been issued an admin key (revoked or not),
       the deployment is bootstrapped: None.
    2. Without a record, register an admin user and record it with SET NX; a process
       that loses that race leaves the rest to the winner: None.
    3. Issue the recorded user an admin key and return its token. A first run that
       stopped between 2 and 3 is finished by the next one, through 1 and 3.
    """
    client = sync_client(redis_url)
    services = build_services(settings, redis_url)
    users = services.users
    record = bootstrap_record(settings)
    try:
        recorded = client.get(record)
        if recorded is not None:
            user_id = UUID(recorded.decode() if isinstance(recorded, bytes) else recorded)
            if any("admin" in key.scopes for key in users.list_api_keys(user_id)):
                return None
        else:
            user_id = users.register(ADMIN_DISPLAY_NAME)
            if not client.set(record, str(user_id), nx=True):
                return None
        return users.issue_api_key(user_id, {"name": BOOTSTRAP_KEY_NAME, "scopes": ["admin"]}).token
    finally:
        services.close()
        client.close()
