"""The `impressox sources` CLI as a real process, against the test's Redis and prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.impressox.cli_support import Cli, cli_env, run_cli


@pytest.fixture
def env(redis_url: str, prefix: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "data", REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)


@pytest.fixture
def cli(env: dict[str, str]) -> Cli:
    return lambda *args, stdin="": run_cli(env, *args, stdin=stdin)
