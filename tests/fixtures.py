"""Fixtures most test modules share: settings of a test's own and a running projector.

A module states only what differs from the defaults, instead of redefining the fixture:

- ``SETTINGS = {...}`` at module level: constant overrides for every test of the module;
- a ``settings_overrides`` fixture (in a directory's conftest or a module): overrides that
  depend on other fixtures, such as the URL of a local Telegram server;
- ``@pytest.mark.parametrize("settings", [{...}], indirect=True)``: one test's own;
- ``READ_MODELS = [...]`` at module level, or a ``read_models`` fixture: the projections
  `projector` runs (all otherwise).

The session's Redis and MongoDB go into the settings when the test runs them already
(`redis_url` / `mongo_url` among its fixtures), so asking for settings starts no server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from redis.asyncio import Redis

from impressox.settings import Settings
from tests.readside import ProjectorThread, isolated_settings

SERVER_URLS = ("redis_url", "mongo_url")
"""Fixtures whose value is also a setting of the same name."""


class SettingsFactory(Protocol):
    def __call__(self, **overrides: Any) -> Settings: ...


@pytest.fixture
def make_settings(prefix: str, tmp_path: Path, request: pytest.FixtureRequest) -> SettingsFactory:
    """Settings of this test's own (prefix, database, data directory), with `overrides`."""
    servers = {
        name: request.getfixturevalue(name) for name in SERVER_URLS if name in request.fixturenames
    }

    def make(**overrides: Any) -> Settings:
        return isolated_settings(prefix, tmp_path, **{**servers, **overrides})

    return make


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Overrides that need other fixtures: override this fixture where they apply."""
    return {}


@pytest.fixture
def settings(
    make_settings: SettingsFactory,
    settings_overrides: dict[str, Any],
    request: pytest.FixtureRequest,
) -> Settings:
    """The module's `SETTINGS`, then `settings_overrides`, then an indirect parameter."""
    return make_settings(
        **{
            **getattr(request.module, "SETTINGS", {}),
            **settings_overrides,
            **getattr(request, "param", {}),
        }
    )


@pytest.fixture
def read_models(request: pytest.FixtureRequest) -> list[str] | None:
    """The projections `projector` runs: the module's `READ_MODELS`, or all."""
    names: list[str] | None = getattr(request.module, "READ_MODELS", None)
    return names


@pytest.fixture
def projector(
    settings: Settings,
    redis_url: str,
    mongo_url: str,
    redis: Redis,
    read_models: list[str] | None,
) -> Iterator[ProjectorThread]:
    """The `read_models`, kept up to date until the test ends.

    Set up after `redis`, so stopped before the test's keys are removed (which would
    fail its partitions)."""
    thread = ProjectorThread(settings, redis_url, mongo_url, names=read_models).start()
    yield thread
    thread.stop()
