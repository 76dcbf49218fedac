"""Keeping an embedded server running: a killed server is reaped and comes back on its
port with its data; one that cannot come back is given up on, saying why."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
from pymongo import MongoClient, WriteConcern
from structlog.testing import capture_logs

from events.errors import InfrastructureError
from impressox.embedded.keeper import ServerKeeper
from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.redis import EmbeddedRedis
from tests.servers import private_server, squat


def _keep_checking(keeper: ServerKeeper, until: Callable[[], bool], within: float = 60) -> int:
    """Check the keeper as the supervisor does, every round, until `until` holds;
    returns how many checks said the server had just come back."""
    returns = 0
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        returns += keeper.check()
        if until():
            return returns
        time.sleep(0.05)
    raise AssertionError(f"not within {within}s: {until.__qualname__}")


def _sigkill(pid: int) -> None:
    """SIGKILL without reaping: the keeper must reap it."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the killed server did not die"
        time.sleep(0.01)


def _said(logs: Sequence[Mapping[str, Any]], event: str) -> int:
    return sum(1 for line in logs if line["event"] == event)


def test_a_killed_redis_is_reaped_and_back_on_its_port_with_its_data(
    private_redis: EmbeddedRedis,
) -> None:
    client: redis.Redis = redis.Redis.from_url(private_redis.url)
    client.xadd("kept", {"n": "1"})
    keeper = ServerKeeper("Redis", private_redis)
    assert private_redis.child is not None
    killed = private_redis.child.pid
    assert killed is not None
    with capture_logs() as logs:
        _sigkill(killed)
        returns = _keep_checking(keeper, lambda: not keeper.down and private_redis.answering())
    try:
        assert returns == 1
        assert not psutil.pid_exists(killed), "the killed server was left a zombie"
        assert private_redis.child.pid != killed
        assert client.xlen("kept") == 1, "the restarted server lost its data"
        assert _said(logs, "embedded Redis exited; restarting it") == 1
        assert _said(logs, "embedded Redis is back") == 1
    finally:
        client.close()


def test_a_killed_mongodb_is_back_on_its_port_with_its_data(tmp_path: Path) -> None:
    with private_server(EmbeddedMongo(tmp_path / "mongo")) as mongo:
        client: MongoClient[dict[str, object]] = MongoClient(mongo.url)
        journaled = WriteConcern(j=True)  # as the projector writes: j:false may be lost
        client.db.get_collection("things", write_concern=journaled).insert_one({"_id": 1})
        keeper = ServerKeeper("MongoDB", mongo)
        assert mongo.child is not None
        assert mongo.child.pid is not None
        _sigkill(mongo.child.pid)
        assert _keep_checking(keeper, lambda: not keeper.down and mongo.answering()) == 1
        with client:
            assert client.db.things.find_one({"_id": 1}) == {"_id": 1}


def test_a_server_that_cannot_come_back_is_given_up_saying_why(
    private_redis: EmbeddedRedis,
) -> None:
    keeper = ServerKeeper("Redis", private_redis, tries=3, backoff_max_s=0.1)
    assert private_redis.child is not None
    assert private_redis.child.pid is not None
    _sigkill(private_redis.child.pid)
    squatter = squat(private_redis.port)  # another program took the port meanwhile
    with closing(squatter), pytest.raises(InfrastructureError) as gave_up:
        _keep_checking(keeper, lambda: False)
    message = str(gave_up.value)
    assert "embedded Redis could not be restarted after 3 tries" in message
    assert "Address already in use" in message  # the server's own log says why
    assert "redis.log" in message


def test_a_crash_loop_is_given_up_but_a_server_that_held_starts_afresh(
    private_redis: EmbeddedRedis,
) -> None:
    """Deaths soon after each return count as failed restarts; a server that stayed up
    longer than `stable_s` before dying is restarted as after a first death."""
    skipped = 0.0

    def clock() -> float:
        return time.monotonic() + skipped

    keeper = ServerKeeper("Redis", private_redis, tries=2, backoff_max_s=0.1, clock=clock)

    def kill_and_wait_for_return() -> None:
        assert private_redis.child is not None
        assert private_redis.child.pid is not None
        _sigkill(private_redis.child.pid)
        _keep_checking(keeper, lambda: not keeper.down and private_redis.answering())

    kill_and_wait_for_return()
    kill_and_wait_for_return()
    skipped += keeper.stable_s + 1  # it then held for longer than a minute
    kill_and_wait_for_return()
    kill_and_wait_for_return()
    assert private_redis.child is not None
    assert private_redis.child.pid is not None
    _sigkill(private_redis.child.pid)  # a third death in a row, each soon after a return
    with pytest.raises(InfrastructureError, match="could not be restarted after 2 tries"):
        _keep_checking(keeper, lambda: False)
