"""`impressox alerts create | list | watch` as real processes against a real API server.

Issue 12: a rule that can never fire is refused with exit 2 and one line naming the
field; one that cannot fire yet is created and says so, and `watch` shows it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from aggregates.services.bundle import Services
from impressox.settings import Settings
from tests.aggregates.conftest import rule_spec
from tests.api.test_websocket import LiveServer, serving
from tests.impressox.cli_support import REPO, LineReader, cli_env, run_cli
from tests.polling import eventually
from tests.readside import ProjectorThread, issue_key

DOGE = {"kind": "symbol", "symbol": "DOGE/USDT"}


@pytest.fixture
def api(settings: Settings, redis_url: str, mongo_url: str) -> Iterator[str]:
    """The API's URL, its read models kept up to date meanwhile."""
    projector = ProjectorThread(settings, redis_url, mongo_url).start()
    try:
        with serving(settings, redis_url, mongo_url) as server:
            yield http_url(server)
    finally:
        projector.stop()


@pytest.fixture
def user_key(services: Services) -> tuple[UUID, str]:
    return issue_key(services, "user", name="cli")


def http_url(server: LiveServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def alerts(tmp_path: Path, api: str, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(tmp_path), "alerts", *args, "--url", api, "--key", key)


def created(tmp_path: Path, api: str, key: str, **changes: object) -> dict[str, object]:
    """A rule created through the CLI, once the API accepts the key (a new key is not
    readable at once)."""

    def attempt() -> subprocess.CompletedProcess[str] | None:
        done = alerts(tmp_path, api, key, "create", json.dumps(rule_spec(**changes)))
        return done if done.returncode == 0 else None

    done: subprocess.CompletedProcess[str] = eventually(attempt, within=30)
    receipt: dict[str, object] = json.loads(done.stdout)
    return receipt


def test_a_rule_that_could_never_fire_is_refused_with_exit_2(
    tmp_path: Path, api: str, user_key: tuple[UUID, str]
) -> None:
    key = user_key[1]
    created(tmp_path, api, key)  # the key works
    below = json.dumps(rule_spec(condition={"type": "below", "threshold": -5}))
    refused = alerts(tmp_path, api, key, "create", below)
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        "error: condition.threshold: Input should be greater than 0 (prices are: below -5"
        " could never fire) (422)"
    ]
    nosuch = alerts(tmp_path, api, key, "create", json.dumps(rule_spec(channels=["nosuch"])))
    assert nosuch.returncode == 2
    assert nosuch.stderr.startswith("error: channels.0: you have no channel 'nosuch'")
    not_json = alerts(tmp_path, api, key, "create", "{nope")
    assert (not_json.returncode, not_json.stderr.startswith("error: the rule is not JSON")) == (
        2,
        True,
    )


def test_a_rule_that_cannot_fire_yet_is_created_and_says_so(
    tmp_path: Path, api: str, user_key: tuple[UUID, str]
) -> None:
    key = user_key[1]
    spec_file = tmp_path / "doge.json"
    spec_file.write_text(
        json.dumps(rule_spec(target=DOGE, condition={"type": "above", "threshold": 1}))
    )

    def attempt() -> subprocess.CompletedProcess[str] | None:
        done = alerts(tmp_path, api, key, "create", f"@{spec_file}")
        return done if done.returncode == 0 else None

    done: subprocess.CompletedProcess[str] = eventually(attempt, within=30)
    receipt = json.loads(done.stdout)
    assert receipt["health"] == "no_source_for_symbol"
    assert done.stderr.splitlines() == [
        "warning: no_source_for_symbol: No running price source reports DOGE/USDT yet: it will"
        " not fire until one does."
    ]
    listed = alerts(tmp_path, api, key, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [rule] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (rule["id"], rule["health"]) == (receipt["id"], "no_source_for_symbol")


def test_watch_shows_the_rules_that_cannot_fire(
    tmp_path: Path, api: str, user_key: tuple[UUID, str]
) -> None:
    key = user_key[1]
    receipt = created(tmp_path, api, key, name="doge", target=DOGE)
    command = ["alerts", "watch", "--url", api, "--key", key, "--health-every", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "impressox", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**cli_env(tmp_path), "COLUMNS": "300"},
        cwd=REPO,
    )
    assert process.stdout is not None
    reader = LineReader(process.stdout)
    try:
        lines: list[str] = []
        while not any("no_source_for_symbol" in line for line in lines):
            line = reader.next_line(timeout=30)
            assert line is not None, lines
            lines.append(line)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            stopped: int | None = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            stopped = None
        reader.close()
    assert stopped is not None, "alerts watch did not stop on Ctrl-C"
    [shown] = [line for line in lines if "no_source_for_symbol" in line]
    assert shown.startswith(f"doge (DOGE/USDT, crosses_up) {str(receipt['id'])[:8]}: ")
    assert "No running price source reports DOGE/USDT yet" in shown
