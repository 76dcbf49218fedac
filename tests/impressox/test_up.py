"""`impressox up`: the whole system in one command, stopped cleanly, restarted intact."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.impressox.cli_support import cli_env, json_lines, run_cli
from tests.impressox.system import System, process_group, wait_for


def _pongs(env: dict[str, str]) -> list[int]:
    read = run_cli(env, "events", "read", "pongs")
    return sorted(event["payload"]["n"] for event in json_lines(read.stdout))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_up_runs_the_system_stops_cleanly_and_restarts_intact(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", IMPRESSOX_API_PORT="0", IMPRESSOX_LOG_LEVEL="INFO")
    system = System(env)
    try:
        assert "Impressox is up." in system.banner
        workers = next(line for line in system.banner.splitlines() if "Workers" in line)
        assert {"agent", "copier", "knowledge", "notify", "rules"} <= set(
            workers.split(None, 1)[1].split(", ")
        )
        assert system.get("/healthz") == (200, {"status": "ok"})
        # Ready once the read models have caught up with what the demo wrote at start,
        # which a loaded machine takes a while to do.
        ready = wait_for(lambda: system.status("/readyz")[0] == 200, timeout=60)
        assert ready, system.status("/readyz")
        assert len(system.children) >= 4  # redis, mongo, api, a worker (and their helpers)
        pgids = {process_group(pid) for pid in system.children} - {None}
        assert len(pgids) == 1, "the system's processes share one process group"
        lines = "\n".join(
            json.dumps({"type": "test.ping", "key": f"k{n}", "payload": {"n": n}}) for n in range(3)
        )
        appended = run_cli(env, "events", "append", "pings", stdin=lines)
        assert appended.returncode == 0, appended.stderr
        assert wait_for(lambda: _pongs(env) == [0, 1, 2], timeout=30)

        system.process.send_signal(signal.SIGINT)
        assert system.process.wait(timeout=90) == 0
        assert wait_for(lambda: not system.alive_children(), timeout=15), system.alive_children()
        assert not (tmp_path / "data" / "run" / "endpoints.json").exists()
    finally:
        system.close()

    again = System(env)
    try:
        assert _pongs(env) == [0, 1, 2], "data did not survive the restart"
        again.process.send_signal(signal.SIGKILL)
        again.process.wait()
        assert wait_for(lambda: not again.alive_children(), timeout=20), again.alive_children()
    finally:
        again.close()
