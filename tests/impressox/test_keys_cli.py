"""`impressox keys` as a real process, and the first admin key of a deployment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import redis

from aggregates.secrets import api_key_matches
from aggregates.services.users import Users
from impressox.bootstrap import bootstrap_record, ensure_admin_key
from impressox.services import build_services
from impressox.settings import Settings, secret_key
from tests.impressox.cli_support import Cli, cli_env, json_lines, run_cli


@pytest.fixture
def cli(redis_url: str, prefix: str, tmp_path: Path) -> Cli:
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    return lambda *args, stdin="": run_cli(env, *args, stdin=stdin)


@pytest.fixture
def users(settings: Settings, redis_url: str) -> Iterator[Users]:
    """The Users service as the CLI builds it (the same data directory, so the same key)."""
    services = build_services(settings, redis_url)
    yield services.users
    services.close()


def test_create_registers_a_user_and_prints_the_key_once(cli: Cli, users: Users) -> None:
    created = cli("keys", "create", "--name", "laptop", "--display-name", "Ada")
    assert created.returncode == 0, created.stderr
    (printed,) = json_lines(created.stdout)
    user_id, token = UUID(printed["user_id"]), printed["token"]
    assert printed["scopes"] == ["user"]
    assert token not in created.stderr
    user = users.load(user_id)
    assert user.display_name == "Ada"
    record = user.api_keys[printed["key_id"]]
    assert (record.name, api_key_matches(token, record.key_hash)) == ("laptop", True)

    listed = cli("keys", "list", "--user-id", str(user_id))
    assert listed.returncode == 0, listed.stderr
    assert [key["key_id"] for key in json_lines(listed.stdout)] == [printed["key_id"]]
    assert token not in listed.stdout
    assert "hash" not in listed.stdout


def test_keys_of_each_scope_for_an_existing_user_and_revocation(cli: Cli, users: Users) -> None:
    user_id = users.register("Bob")
    admin = cli("keys", "create", "--admin", "--user-id", str(user_id))
    ingest = cli("keys", "create", "--ingest", "--user-id", str(user_id))
    assert admin.returncode == ingest.returncode == 0, admin.stderr + ingest.stderr
    admin_key, ingest_key = json.loads(admin.stdout), json.loads(ingest.stdout)
    assert (admin_key["user_id"], admin_key["scopes"]) == (str(user_id), ["admin"])
    assert ingest_key["scopes"] == ["ingest"]

    revoked = cli("keys", "revoke", "--user-id", str(user_id), ingest_key["key_id"])
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked_at"] is not None
    assert users.load(user_id).api_keys[ingest_key["key_id"]].revoked_at is not None
    assert users.load(user_id).api_keys[admin_key["key_id"]].revoked_at is None


def test_bad_input_is_one_line_and_exit_code_2(cli: Cli, users: Users) -> None:
    user_id = str(users.register("Cy"))
    cases = [
        (["keys", "create", "--user-id", "nope"], "error: invalid --user-id 'nope'"),
        (
            ["keys", "create", "--user-id", user_id, "--display-name", "x"],
            "error: give --user-id or --display-name",
        ),
        (["keys", "create", "--user-id", str(uuid4())], "error: no user"),
        (["keys", "create", "--name", ""], "error: name:"),
        (["keys", "list", "--user-id", str(uuid4())], "error: no user"),
        (["keys", "revoke", "--user-id", user_id, "0123456789abcdef"], "error: user "),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(message), (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""


def test_the_first_admin_key_is_made_once(settings: Settings, redis_url: str, users: Users) -> None:
    token = ensure_admin_key(settings, redis_url)
    assert token is not None
    assert ensure_admin_key(settings, redis_url) is None
    with redis.Redis.from_url(redis_url) as client:
        recorded = client.get(bootstrap_record(settings))
    assert recorded is not None
    admin = users.load(UUID(recorded.decode()))
    (key,) = admin.api_keys.values()
    assert key.scopes == ("admin",)
    assert api_key_matches(token, key.key_hash)
    assert token not in recorded.decode()


def test_a_deleted_first_admin_is_not_revived(
    settings: Settings, redis_url: str, users: Users
) -> None:
    """Deleting the first admin must not make the next start fail, nor issue them a key."""
    assert ensure_admin_key(settings, redis_url) is not None
    with redis.Redis.from_url(redis_url) as client:
        recorded = client.get(bootstrap_record(settings))
    assert recorded is not None
    users.delete(UUID(recorded.decode()))
    assert ensure_admin_key(settings, redis_url) is None


def test_processes_starting_together_make_one_admin(settings: Settings, redis_url: str) -> None:
    secret_key(settings)  # the data directory's key exists before the processes start
    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda _: ensure_admin_key(settings, redis_url), range(4)))
    assert len([token for token in tokens if token is not None]) == 1


def test_a_first_run_stopped_before_the_key_is_finished_next_time(
    settings: Settings, redis_url: str, users: Users
) -> None:
    """The user was recorded but the process stopped before issuing the key."""
    user_id = users.register("admin")
    with redis.Redis.from_url(redis_url) as client:
        client.set(bootstrap_record(settings), str(user_id))
    token = ensure_admin_key(settings, redis_url)
    assert token is not None
    (key,) = users.load(user_id).api_keys.values()
    assert api_key_matches(token, key.key_hash)
    assert ensure_admin_key(settings, redis_url) is None
