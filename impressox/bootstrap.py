"""What a deployment's first start creates: an admin key, and a demo trader.

Every API call needs a key, and keys are issued through the API or the CLI: a fresh
system needs one to begin with. `ensure_admin_key` creates an admin user and key the
first time it runs against a Redis, and records that it did in Redis
(``<prefix>:bootstrap:admin``, holding the admin's user id, never the token) with
SET NX, so two processes starting at once create one admin between them.

`ensure_demo` does the same for a demo trader with one rule on the simulated market,
so someone trying the system sees a price move and an alert arrive within a minute,
and has a user key to watch it with. `ensure_demo_chain` gives that trader a watched
wallet on the local chain and a rule on its transfers, once the local chain runs (also on
a later start, for a demo made while it did not).
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
            if users.load(user_id).deleted:
                return None  # deleted by an operator: bootstrapped, and not to be revived
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


DEMO_DISPLAY_NAME = "demo trader"
DEMO_RULE: dict[str, object] = {
    "name": "Demo: BTC/USDT moves 0.05% within a minute",
    "target": {"kind": "symbol", "symbol": "BTC/USDT", "venue": "simulator"},
    "condition": {"type": "percent_change", "percent": 0.05, "window_s": 60},
    "frequency": {"kind": "every_time", "cooldown_s": 60},
    "severity": "info",
    "channels": ["web"],
}


def demo_record(settings: Settings) -> str:
    """The Redis key recording the demo trader's user id."""
    return f"{settings.stream_prefix}:bootstrap:demo"


def ensure_demo(settings: Settings, redis_url: str) -> str | None:
    """The token of the demo trader's new key on the first run; None ever after.

    Made once per deployment (SET NX, as for the admin); a run that stopped half way
    leaves a demo user without a rule or key, which the next run does not repair: the
    demo is a convenience, not state anything depends on.
    """
    client = sync_client(redis_url)
    if client.exists(demo_record(settings)):
        client.close()
        return None
    services = build_services(settings, redis_url)
    try:
        user_id = services.users.register(DEMO_DISPLAY_NAME)
        if not client.set(demo_record(settings), str(user_id), nx=True):
            return None
        services.alert_rules.create(user_id, DEMO_RULE)
        return services.users.issue_api_key(user_id, {"name": "demo", "scopes": ["user"]}).token
    finally:
        services.close()
        client.close()


DEMO_CHAIN_RULE_NAME = "Demo: any transfer of the simulated demo wallet"


def demo_chain_record(settings: Settings) -> str:
    """The Redis key recording that the demo trader watches the local chain's demo wallet."""
    return f"{settings.stream_prefix}:bootstrap:demo-chain"


def demo_chain_rule(wallet: str) -> dict[str, object]:
    """A rule that fires on every transfer of `wallet`, as soon as it is seen: the
    simulator moves it every few seconds, so the first alert comes within a minute."""
    return {
        "name": DEMO_CHAIN_RULE_NAME,
        "target": {"kind": "chain", "wallet": wallet, "fire_on": "observed"},
        "condition": {"type": "transferred"},
        "frequency": {"kind": "every_time", "cooldown_s": 0},
        "severity": "info",
        "channels": ["web"],
    }


def ensure_demo_chain(settings: Settings, redis_url: str, wallet: str) -> bool:
    """Watch `wallet` for the demo trader with a rule on it, once; whether it was done now.

    Nothing is done without a demo trader (IMPRESSOX_DEMO off, or the record missing).
    """
    client = sync_client(redis_url)
    try:
        demo = client.get(demo_record(settings))
        if demo is None or client.exists(demo_chain_record(settings)):
            return False
        user_id = UUID(demo.decode() if isinstance(demo, bytes) else demo)
        if not client.set(demo_chain_record(settings), wallet, nx=True):
            return False
    finally:
        client.close()
    services = build_services(settings, redis_url)
    try:
        if services.users.load(user_id).deleted:
            return False  # an operator deleted the demo trader: nothing to watch for
        services.watches.watch_wallet(user_id, wallet, label="demo wallet (simulated)")
        services.alert_rules.create(user_id, demo_chain_rule(wallet))
        return True
    finally:
        services.close()
