"""`impressox users delete` as a real process: the user deleted, their rules too; bad
input is exit code 2 and one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from pymongo import MongoClient

from aggregates.services.bundle import Services
from impressox.settings import Settings
from projections.readmodels import alert_rules, users
from tests.aggregates.conftest import rule_spec
from tests.impressox.cli_support import Cli, cli_env, run_cli
from tests.readside import ProjectorThread

READ_MODELS = [alert_rules.AlertRules.name, users.Users.name]


@pytest.fixture
def cli(redis_url: str, mongo_url: str, settings: Settings, tmp_path: Path) -> Iterator[Cli]:
    env = cli_env(
        tmp_path,
        REDIS_URL=redis_url,
        MONGO_URL=mongo_url,
        IMPRESSOX_STREAM_PREFIX=settings.stream_prefix,
        IMPRESSOX_MONGO_DATABASE=settings.mongo_database,
    )
    yield lambda *args, stdin="": run_cli(env, *args, stdin=stdin)
    client: MongoClient[dict[str, object]]
    with MongoClient(mongo_url) as client:
        client.drop_database(settings.mongo_database)


def test_delete_revokes_the_keys_and_deletes_the_rules(
    cli: Cli, services: Services, projector: ProjectorThread
) -> None:
    user_id = services.users.register("Ada")
    services.users.issue_api_key(user_id, {"name": "laptop"})
    rule_id = services.alert_rules.create(user_id, rule_spec())

    deleted = cli("users", "delete", str(user_id))
    assert deleted.returncode == 0, deleted.stderr
    printed = json.loads(deleted.stdout)
    assert printed == {
        "user_id": str(user_id),
        "already_deleted": False,
        "rules_deleted": 1,
        "rules_settled": True,
    }
    user = services.users.load(user_id)
    assert user.deleted
    assert user.active_keys() == []
    assert services.alert_rules.load(rule_id).status == "deleted"

    again = cli("users", "delete", str(user_id))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["already_deleted"] is True


def test_bad_input_is_one_line_and_exit_code_2(cli: Cli) -> None:
    unknown = str(uuid4())
    for args, message in [
        (["users", "delete", "nope"], "error: invalid USER_ID 'nope'"),
        (["users", "delete", unknown], f"error: no user {unknown}"),
    ]:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(message), (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""
