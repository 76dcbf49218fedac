"""`impressox projections list|status|rebuild` as real processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from aggregates.services.bundle import Services
from impressox.services import build_services
from impressox.settings import Settings
from tests.impressox.cli_support import Cli, cli_env, json_lines, run_cli


@pytest.fixture
def cli(redis_url: str, mongo_url: str, settings: Settings, tmp_path: Path) -> Iterator[Cli]:
    env = cli_env(
        tmp_path,
        REDIS_URL=redis_url,
        MONGO_URL=mongo_url,
        IMPRESSOX_STREAM_PREFIX=settings.stream_prefix,
        IMPRESSOX_MONGO_DATABASE=settings.mongo_database,
        IMPRESSOX_PROJECTIONS=json.dumps(["api_keys"]),
    )
    yield lambda *args, stdin="": run_cli(env, *args, stdin=stdin)
    client: MongoClient[dict[str, object]]
    with MongoClient(mongo_url) as client:
        client.drop_database(settings.mongo_database)


@pytest.fixture
def services(settings: Settings, redis_url: str) -> Iterator[Services]:
    built = build_services(settings, redis_url)
    yield built
    built.close()


@pytest.mark.timeout(300)  # many processes; over a minute when the suite runs in four
def test_rebuild_list_and_status(cli: Cli, services: Services) -> None:
    for n in range(3):
        user_id = services.users.register(f"user {n}")
        services.users.issue_api_key(user_id, {"name": f"key {n}", "scopes": ["user"]})

    (before,) = json_lines(cli("projections", "list", "--json").stdout)
    assert before == {
        "name": "api_keys",
        "started": False,
        "active": 1,
        "collection": "api_keys_g1",
        "backlog": 6,  # the log's entries: each user's registration and key
        "building": None,
        "building_backlog": None,
        "retired": [],
    }

    rebuilt = cli("projections", "rebuild", "api_keys")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout) == {
        "projection": "api_keys",
        "active": 2,
        "collection": "api_keys_g2",
        "swapped_by": "this process",
    }
    (after,) = json_lines(cli("projections", "list", "--json").stdout)
    assert (after["started"], after["active"], after["backlog"], after["building"]) == (
        True,
        2,
        0,
        None,
    )
    assert after["retired"] == [1]

    rows = json_lines(cli("projections", "status", "api_keys", "--json").stdout)
    assert [(r["group"], r["backlog"]) for r in rows] == [("proj-api_keys-g2", 0)]
    assert rows[0]["tracked"] is not None
    assert rows[0]["stream"].endswith(":{app.users}:log")

    started = cli("projections", "rebuild", "api_keys", "--no-wait")
    assert json.loads(started.stdout) == {"projection": "api_keys", "building": 3}
    (building,) = json_lines(cli("projections", "list", "--json").stdout)
    assert (building["active"], building["building"]) == (2, 3)
    assert building["building_backlog"] > 0
    rows = json_lines(cli("projections", "status", "--json").stdout)
    assert [r["group"] for r in rows] == ["proj-api_keys-g2", "proj-api_keys-g3"]
    table = cli("projections", "list")
    assert "api_keys_g2" in table.stdout
    assert "g3" in table.stdout
    partitions = cli("projections", "status").stdout.splitlines()
    assert max(map(len, table.stdout.splitlines() + partitions)) <= 80
    assert "…" not in table.stdout + "".join(partitions)
    assert {"proj-api_keys-g2", "proj-api_keys-g3"} <= {line.strip() for line in partitions}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["projections", "rebuild", "nothing"], "error: no projection named 'nothing'"),
        (["projections", "status", "nothing"], "error: no projection named 'nothing'"),
    ],
)
def test_unknown_projections_exit_2_with_one_line(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1


def test_without_servers_the_commands_say_what_is_missing(tmp_path: Path) -> None:
    result = run_cli(cli_env(tmp_path), "projections", "list")
    assert result.returncode == 1
    assert result.stderr == (
        "error: no REDIS_URL and MONGO_URL: set it, or start the whole system with `impressox up`\n"
    )
