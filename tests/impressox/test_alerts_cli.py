"""`impressox alerts create | list | watch` as real processes against a real API server.

Issue 12: a rule that can never fire is refused with exit 2 and one line naming the
field; one that cannot fire yet is created and says so, and `watch` shows it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from redis.asyncio import Redis

from aggregates.services.bundle import Services
from impressox.cli.alerts import STOP_GRACE_S
from impressox.settings import Settings
from tests.aggregates.conftest import rule_spec
from tests.api.live_server import LiveServer, serving
from tests.impressox.cli_support import REPO, LineReader, cli_env, run_cli
from tests.polling import eventually
from tests.readside import ProjectorThread, issue_key

DOGE = {"kind": "symbol", "symbol": "DOGE/USDT"}


@pytest.fixture
def api(settings: Settings, redis_url: str, mongo_url: str, redis: Redis) -> Iterator[str]:
    """The API's URL, its read models kept up to date meanwhile (after `redis`: the
    projector stops before the test's keys are removed)."""
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
    assert stopped == 0, "alerts watch did not stop on Ctrl-C"
    [shown] = [line for line in lines if "no_source_for_symbol" in line]
    assert shown.startswith(f"doge (DOGE/USDT, crosses_up) {receipt['id']}: ")  # whole, to copy
    assert "No running price source reports DOGE/USDT yet" in shown


class SilentWebSocket:
    """A server that accepts the WebSocket handshake, then never says another word (nor
    answers a close): a server that hung, or a network that dropped everything."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.frames = 0
        """Bytes the client sent after the handshake (its auth and subscriptions)."""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.listener.accept()
                self.accepted.append(connection)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(4096)
                key = re.search(rb"Sec-WebSocket-Key: (\S+)", request, re.IGNORECASE)
                if key is None:
                    continue  # the rules' health, over HTTP: no answer either
                digest = hashlib.sha1(key.group(1) + WEBSOCKET_GUID).digest()  # noqa: S324 - the protocol's
                connection.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                    + base64.b64encode(digest)
                    + b"\r\n\r\n"
                )
                self.frames += len(connection.recv(4096))  # the client's first frames

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def test_watch_stops_on_ctrl_c_even_when_the_server_hangs(tmp_path: Path) -> None:
    """Closing the connection waits for the server's answer (10 s in websockets); Ctrl-C
    does not wait that long: it leaves after `STOP_GRACE_S` and says where it hung."""
    silent = SilentWebSocket()
    command = ["alerts", "watch", "--url", f"http://127.0.0.1:{silent.port}", "--key", "k"]
    process = subprocess.Popen(
        [sys.executable, "-m", "impressox", *command, "--health-every", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(tmp_path),
        cwd=REPO,
    )
    assert process.stdout is not None
    reader = LineReader(process.stdout)
    try:
        assert eventually(lambda: silent.frames > 0, within=30)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        output = "".join(iter(lambda: reader.next_line(timeout=1) or "", ""))
        reader.close()
        silent.close()
    assert code == 0
    assert STOP_GRACE_S <= took < STOP_GRACE_S + 10, took
    assert f"alerts watch: did not stop within {STOP_GRACE_S:g} s; it was at:" in output
