"""`impressox aggregates show` as a real process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from aggregates.services.alert_rules import AlertRules
from tests.aggregates.conftest import rule_spec
from tests.impressox.cli_support import Cli, cli_env, json_lines, run_cli


@pytest.fixture
def cli(redis_url: str, prefix: str, tmp_path: Path) -> Cli:
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    return lambda *args, stdin="": run_cli(env, *args, stdin=stdin)


def test_show_state_now_and_at_a_version(cli: Cli, rules: AlertRules) -> None:
    rule_id = rules.create(uuid4(), rule_spec(severity="info"))
    rules.pause(rule_id)
    now = cli("aggregates", "show", str(rule_id))
    assert now.returncode == 0, now.stderr
    state = json.loads(now.stdout)
    assert (state["kind"], state["version"], state["state"]["status"]) == (
        "alert_rule",
        2,
        "paused",
    )
    then = json.loads(cli("aggregates", "show", str(rule_id), "--version", "1").stdout)
    assert then["state"]["status"] == "active"
    history = json_lines(cli("aggregates", "show", str(rule_id), "--history").stdout)
    assert [event["type"] for event in history] == ["alert_rule.created", "alert_rule.paused"]


def test_show_refuses_what_it_cannot_show(cli: Cli, rules: AlertRules) -> None:
    rule_id = rules.create(uuid4(), rule_spec())
    before = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = [
        (["aggregates", "show", "not-a-uuid"], "error: invalid ID 'not-a-uuid'"),
        (["aggregates", "show", str(uuid4())], "error: no aggregate"),
        (["aggregates", "show", str(rule_id), "--at", before], "error: alert_rule"),
        (["aggregates", "show", str(rule_id), "--at", "yesterday"], "error: invalid --at value"),
        (
            ["aggregates", "show", str(rule_id), "--version", "9"],
            f"error: alert_rule {rule_id} is at version 1; 9 is beyond its head",
        ),
        (
            ["aggregates", "show", str(rule_id), "--version", "1", "--at", before],
            "error: give --version or --at",
        ),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(message), result.stderr
        assert result.stderr.count("\n") == 1
