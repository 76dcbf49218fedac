"""`impressox up` through the loss of its embedded servers: SIGKILL Redis, then MongoDB,
then both at once, while posts are ingested through the API and the simulator's ticks
fire the demo rule. The system recovers by itself, and nothing is lost: every accepted
post is in Redis once and in the posts read model, every alert in the alert history, no
entry is dead-lettered, every consumer group catches up, and no process but the killed
servers had to be restarted. And a server that cannot come back stops everything, with
`/readyz` naming it until then.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from events.redis_client import entries
from tests.impressox.cli_support import cli_env
from tests.impressox.system import System, wait_for
from tests.servers import squat

POSTS_PER_BATCH = 5
RECOVERY_S = 120


class Ingester(threading.Thread):
    """Posts through the API's ingest endpoint, batch after batch, each retried until the
    API accepts it, as a client that wants nothing lost does. Retrying is safe: an event
    sent without an id gets one derived from its payload."""

    def __init__(self, api_url: str, token: str) -> None:
        super().__init__(daemon=True, name="ingester")
        self.url = f"{api_url}/v1/events/posts"
        self.token = token
        self.accepted = 0
        self.refused: list[int] = []
        """The statuses of the tries that failed (0: no answer), for the record."""
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            batch = [_post(self.accepted + n) for n in range(POSTS_PER_BATCH)]
            while not self._sent(batch):
                if self.stopping.wait(0.2):
                    return
            self.accepted += len(batch)
            self.stopping.wait(0.1)

    def _sent(self, batch: list[dict[str, Any]]) -> bool:
        body = json.dumps({"events": batch}).encode()
        request = urllib.request.Request(  # noqa: S310 - our own API
            self.url,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return bool(response.status == 200)
        except urllib.error.HTTPError as error:
            error.close()
            self.refused.append(error.code)
        except OSError:
            self.refused.append(0)
        return False

    def finish(self) -> int:
        self.stopping.set()
        self.join(30)
        return self.accepted


def _post(n: int) -> dict[str, Any]:
    return {
        "type": "post.scraped",
        "payload": {
            "source": "faults",
            "post_id": str(n),
            "author": f"author{n % 7}",
            "text": f"post {n} about $SOL",
            "created_at": "2026-01-01T00:00:00Z",
        },
    }


@contextmanager
def running_system(tmp_path: Path) -> Iterator[tuple[System, Path]]:
    """`impressox up` on a data directory of its own, its logs in a file."""
    env = cli_env(
        tmp_path / "data",
        IMPRESSOX_API_PORT="0",
        IMPRESSOX_LOG_LEVEL="INFO",
        IMPRESSOX_SOURCES='["simulator"]',  # the posts are the test's own
        IMPRESSOX_SIMULATOR_RATE_HZ="5",
    )
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        system = System(env, log=log)
        try:
            yield system, log_path
        finally:
            system.close()


def _admin_token(banner: str) -> str:
    lines = banner.splitlines()
    index = next(i for i, line in enumerate(lines) if "an admin API key was created" in line)
    return lines[index + 1].strip()


def _kill(system: System, *programs: str) -> list[int]:
    pids = [system.server_pid(program) for program in programs]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


FAULTS = (("redis-server",), ("secantusd-py",), ("redis-server", "secantusd-py"))
"""Redis, then MongoDB, then both at once."""

SERVER_NAMES = {"redis-server": "Redis", "secantusd-py": "MongoDB"}
"""How the supervisor's log names the server each program runs."""


def _kill_and_recover(
    system: System, log_path: Path, ingester: Ingester, programs: tuple[str, ...]
) -> None:
    """SIGKILL the servers running `programs`; wait, doing nothing, until the system is
    ready again, the supervisor has seen each server back, and ingest has gone on.

    The API can answer ready before the supervisor's next round sees a restarted server
    answer; the next fault must not land in between, or it would kill a server the
    supervisor still counts as starting."""
    before = ingester.accepted
    back = {program: _back(log_path, program) for program in programs}
    killed = _kill(system, *programs)
    assert wait_for(lambda: _recovered(system, killed, programs), RECOVERY_S), (
        f"not ready again after killing {programs}: {system.status('/readyz')}"
    )
    assert wait_for(
        lambda: all(_back(log_path, program) > back[program] for program in programs), RECOVERY_S
    ), f"the supervisor did not see {programs} back"
    assert wait_for(lambda: ingester.accepted >= before + 20, RECOVERY_S), (
        f"ingest did not resume after killing {programs}"
    )


def _back(log_path: Path, program: str) -> int:
    return len(_lines(log_path, f"embedded {SERVER_NAMES[program]} is back"))


def _recovered(system: System, killed: list[int], programs: tuple[str, ...]) -> bool:
    """Every killed server runs again under a new pid, and the API says it is ready."""
    try:
        pids = [system.server_pid(program) for program in programs]
    except AssertionError:
        return False
    return not set(pids) & set(killed) and system.status("/readyz")[0] == 200


def _lines(log_path: Path, event: str) -> list[dict[str, Any]]:
    found = []
    for raw in log_path.read_bytes().splitlines():
        if raw.startswith(b"{") and event.encode() in raw:
            line = json.loads(raw)
            if line.get("event") == event:
                found.append(line)
    return found


class Stores:
    """What the system wrote, read straight from its Redis and MongoDB."""

    def __init__(self, endpoints: dict[str, Any]) -> None:
        self.redis = redis.Redis.from_url(endpoints["redis_url"])
        self.mongo: MongoClient[dict[str, Any]] = MongoClient(
            endpoints["mongo_url"], serverSelectionTimeoutMS=2000
        )
        self.database = self.mongo["impressox"]

    def close(self) -> None:
        self.redis.close()
        self.mongo.close()

    def streams(self, pattern: str) -> list[bytes]:
        return sorted(self.redis.scan_iter(match=pattern, _type="stream"))

    def entries(self, category: str, event_type: str) -> int:
        """Events of `event_type` in every partition of `category`."""
        wanted = event_type.encode()
        return sum(
            fields[b"type"] == wanted
            for stream in self.streams(f"ix:{{p*}}:{category}")
            for _, fields in entries(self.redis.xrange(stream))
        )

    def dead_letters(self) -> dict[str, int]:
        return {
            stream.decode(): int(self.redis.xlen(stream))
            for stream in self.streams("ix:*dead.*")
            if self.redis.xlen(stream)
        }

    def behind(self) -> list[str]:
        """Consumer groups with entries pending or not yet read."""
        late = []
        for stream in self.streams("ix:*"):
            for group in self.redis.xinfo_groups(stream):
                if group["pending"] or group["lag"]:
                    late.append(f"{stream.decode()} {group['name'].decode()}")
        return late

    def all_running(self, banner: str) -> bool:
        """Every worker of the banner's list has a live consumer (it is built and runs)."""
        workers = next(line for line in banner.splitlines() if line.startswith("  Workers"))
        seconds, _ = self.redis.time()
        return all(
            self.redis.zrangebyscore(f"ix:members:{name}", int(seconds) * 1000, "+inf")
            for name in workers.split(None, 1)[1].split(", ")
        )

    def documents(self, read_model: str, query: dict[str, Any]) -> int | None:
        try:
            return self.database[f"{read_model}_g1"].count_documents(query)
        except PyMongoError:
            return None


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_up_recovers_from_killed_servers_by_itself_and_loses_nothing(tmp_path: Path) -> None:
    with running_system(tmp_path) as (system, log_path):
        ingester = Ingester(system.endpoints["api_url"], _admin_token(system.banner))
        ingester.start()
        stores = Stores(system.endpoints)
        try:
            assert wait_for(lambda: stores.all_running(system.banner), timeout=RECOVERY_S)
            assert wait_for(lambda: ingester.accepted >= 20, timeout=RECOVERY_S)
            for programs in FAULTS:
                _kill_and_recover(system, log_path, ingester, programs)
            accepted = ingester.finish()

            assert wait_for(lambda: stores.entries("posts", "post.scraped") == accepted, 30), (
                f"{stores.entries('posts', 'post.scraped')} posts in Redis, {accepted} accepted"
            )
            assert wait_for(
                lambda: stores.documents("posts", {"source": "faults"}) == accepted, RECOVERY_S
            ), f"{stores.documents('posts', {'source': 'faults'})} of {accepted} posts projected"
            assert wait_for(
                lambda: (
                    stores.documents("alert_history", {})
                    == stores.entries("alerts", "alert.triggered")
                    > 0
                ),
                RECOVERY_S,
            ), "alerts missing from the alert history"
            assert wait_for(lambda: not stores.behind(), RECOVERY_S), stores.behind()
            assert stores.dead_letters() == {}
            ready = wait_for(lambda: system.status("/readyz")[0] == 200, RECOVERY_S)
            assert ready, system.status("/readyz")  # its lag check is cached for a moment
        finally:
            ingester.finish()
            stores.close()
        system.process.send_signal(signal.SIGINT)
        assert system.process.wait(timeout=120) == 0

    for name in ("Redis", "MongoDB"):
        assert len(_lines(log_path, f"embedded {name} exited; restarting it")) == 2
        assert len(_lines(log_path, f"embedded {name} is back")) == 2
    assert _lines(log_path, "process exited; restarting") == [], "a process died of an outage"
    assert _lines(log_path, "partition failed; restarting") == []


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_up_gives_up_on_a_server_that_cannot_restart_and_readyz_names_it(
    tmp_path: Path,
) -> None:
    with running_system(tmp_path) as (system, log_path):
        port = int(system.endpoints["redis_url"].rsplit(":", 1)[1].split("/")[0])
        system.process.send_signal(signal.SIGSTOP)  # so it cannot restart Redis before...
        _kill(system, "redis-server")
        with closing(squat(port)):  # ...another program takes Redis's port
            system.process.send_signal(signal.SIGCONT)
            assert wait_for(lambda: system.status("/readyz")[0] == 503, timeout=30)
            status, body = system.status("/readyz")
            assert status == 503
            assert body["detail"].startswith("redis: "), body
            system.children += system.current_children()
            assert system.process.wait(timeout=120) == 1
        assert wait_for(lambda: not system.alive_children(), timeout=30), system.alive_children()
    assert len(_lines(log_path, "embedded Redis did not restart")) == 5
    assert b"error: embedded Redis could not be restarted after 5 tries" in log_path.read_bytes()
