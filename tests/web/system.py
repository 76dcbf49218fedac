"""The whole system for the browser tests: `impressox up` on the session's servers.

It runs as an operator runs it (the API serving the built page, the projections
process, the workers), on the Redis and MongoDB the test session started, under a key
prefix and database of its own, with no price source: the tests append the ticks.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from impressox.embedded.process import free_port
from tests.impressox.cli_support import REPO, LineReader, cli_env, run_cli

BUNDLE = REPO / "web" / "dist"
WORKERS = ["rules", "rule-firings", "notify", "agent"]
KEY = re.compile(r"ixk_[A-Za-z0-9_-]+")
START_TIMEOUT_S = 180


@dataclass
class System:
    url: str
    admin_key: str
    trader_key: str
    prefix: str
    database: str
    data_dir: Path
    process: subprocess.Popen[str]
    reader: LineReader
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.admin_key}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def new_trader(self, name: str) -> str:
        """A key of a new user, made with `impressox keys create` as an operator would."""
        made = run_cli(self.env, "keys", "create", "--display-name", name)
        assert made.returncode == 0, made.stderr
        token: str = json.loads(made.stdout)["token"]
        return token

    def endpoints(self) -> dict[str, Any]:
        """What `impressox up` wrote to its data directory: the servers' URLs."""
        found: dict[str, Any] = json.loads((self.data_dir / "run" / "endpoints.json").read_text())
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.close()


def start_system(data_dir: Path, redis_url: str, mongo_url: str, prefix: str) -> System:
    """`impressox up` with the built page; returns once its banner printed the keys."""
    if not (BUNDLE / "index.html").is_file():
        raise RuntimeError(f"the web page is not built ({BUNDLE}): run `make web` first")
    port = free_port()
    database = f"db_{prefix}"
    env = cli_env(
        data_dir,
        REDIS_URL=redis_url,
        MONGO_URL=mongo_url,
        IMPRESSOX_STREAM_PREFIX=prefix,
        IMPRESSOX_MONGO_DATABASE=database,
        IMPRESSOX_API_PORT=str(port),
        IMPRESSOX_PARTITIONS="2",
        IMPRESSOX_SOURCES="[]",
        IMPRESSOX_WORKERS=json.dumps(WORKERS),
        IMPRESSOX_WEB_DIR=str(BUNDLE),
        IMPRESSOX_ALLOWED_DESTINATIONS='["127.0.0.1"]',  # the tests' webhook receivers
    )
    log = data_dir / "up.log"
    with log.open("w") as errors:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "impressox", "up"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
            cwd=REPO,
        )
    assert process.stdout is not None
    reader = LineReader(process.stdout)
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = reader.next_line(timeout=1)
        if line is None:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            keys = KEY.findall("".join(lines))
            admin, trader = keys[0], keys[1]
            return System(f"http://127.0.0.1:{port}", admin, trader, prefix, database,
                          data_dir, process, reader, env, lines)  # fmt: skip
    process.kill()
    process.wait()
    reader.close()
    raise AssertionError(
        "impressox up did not come up:\n" + "".join(lines) + log.read_text()[-3000:]
    )
