"""What `impressox up` restarts: a process that died (with backoff), not one that refused
its configuration (exit 2: the same environment would be refused again)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from structlog.testing import capture_logs

from impressox.embedded.process import ChildProcess
from impressox.settings import Settings
from impressox.supervisor import Supervisor, _App


def _exiting(code: int) -> _App:
    child = ChildProcess(
        "exits", [sys.executable, "-c", f"raise SystemExit({code})"], log_path=None
    )
    child.start()
    assert child.process is not None
    child.process.wait(30)
    return _App(child)


def test_a_process_that_died_is_restarted_and_one_refusing_its_configuration_is_not(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(Settings(data_dir=tmp_path))
    supervisor.apps = {"worker:crashed": _exiting(1), "chain:watcher": _exiting(2)}
    with capture_logs() as logs:
        for _ in range(3):
            supervisor._watch()
            time.sleep(0.05)
    crashed, refused = supervisor.apps["worker:crashed"], supervisor.apps["chain:watcher"]
    assert (crashed.restart_at is not None, crashed.refused) == (True, False)
    assert (refused.restart_at, refused.refused) == (None, True)
    said = [(line["event"], line["process"]) for line in logs]
    assert said == [
        ("process exited; restarting", "worker:crashed"),
        (
            "process refused its configuration; not restarted (fix it, then restart)",
            "chain:watcher",
        ),
    ]
