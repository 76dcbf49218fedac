"""Application services on the session's Redis, through our persistence module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aggregates.secrets import SecretBox
from aggregates.services.alert_rules import AlertRules
from aggregates.services.conversations import Conversations
from aggregates.services.users import Users
from aggregates.services.watches import Watches


@pytest.fixture
def es_env(redis_url: str, prefix: str) -> dict[str, str]:
    """The environment that points an eventsourcing application at our Redis recorder."""
    return {
        "PERSISTENCE_MODULE": "events.eventsourcing_redis",
        "REDIS_URL": redis_url,
        "IMPRESSOX_STREAM_PREFIX": prefix,
    }


@pytest.fixture
def secret_box() -> SecretBox:
    return SecretBox(SecretBox.new_key())


@pytest.fixture
def users(es_env: dict[str, str], secret_box: SecretBox) -> Iterator[Users]:
    app = Users(es_env, secret_box=secret_box)
    yield app
    app.close()


@pytest.fixture
def rules(es_env: dict[str, str]) -> Iterator[AlertRules]:
    app = AlertRules(es_env)
    yield app
    app.close()


@pytest.fixture
def conversations(es_env: dict[str, str]) -> Iterator[Conversations]:
    app = Conversations(es_env)
    yield app
    app.close()


@pytest.fixture
def watches(es_env: dict[str, str]) -> Iterator[Watches]:
    app = Watches(es_env)
    yield app
    app.close()


def rule_spec(**changes: Any) -> dict[str, Any]:
    """A valid price rule, as a trader would send it, with `changes` applied."""
    spec: dict[str, Any] = {
        "name": "BTC breakout",
        "target": {"kind": "symbol", "symbol": "BTC/USDT"},
        "condition": {"type": "crosses_up", "threshold": 100_000},
        "frequency": {"kind": "every_time", "cooldown_s": 60},
        "severity": "warning",
        "channels": ["web"],
    }
    spec.update(changes)
    return spec
