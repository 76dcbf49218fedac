"""What `impressox up` restarts: a process that died (with backoff), not one that refused
its configuration (exit 2: the same environment would be refused again)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from events.errors import InfrastructureError
from impressox.embedded.chain import EmbeddedChain
from impressox.embedded.keeper import ServerKeeper
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


class _GivingUp(ServerKeeper):
    """A keeper whose server could not be restarted, as the keeper says after its tries."""

    def check(self, process_group: int = 0) -> bool:
        raise InfrastructureError(f"embedded {self.name} could not be restarted after 5 tries")


def test_a_local_chain_that_cannot_be_restarted_stops_its_part_not_the_system(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(Settings(data_dir=tmp_path))
    node = EmbeddedChain(tmp_path / "chain")
    sleeping = [sys.executable, "-c", "import time; time.sleep(60)"]
    for name in ("chain:watcher", "chain:simulator", "worker:rules"):
        child = ChildProcess(name, sleeping, log_path=None)
        child.start()
        supervisor.apps[name] = _App(child)
    supervisor.keepers = [_GivingUp("the local chain", node, essential=False)]
    try:
        with capture_logs() as logs:
            supervisor._watch()
        assert list(supervisor.apps) == ["worker:rules"]
        assert supervisor.keepers == []
        [said] = [line["event"] for line in logs if line["log_level"] == "error"]
        assert said == (
            "embedded the local chain could not be restarted after 5 tries;"
            " the chain part is off, the rest runs on"
        )
        supervisor.keepers = [_GivingUp("Redis", node)]  # an essential one stops everything
        with pytest.raises(InfrastructureError):
            supervisor._watch()
    finally:
        supervisor.apps["worker:rules"].child.stop()
