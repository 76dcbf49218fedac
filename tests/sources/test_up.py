"""`impressox up` starts the market simulator by default, labelled as simulated."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.impressox.cli_support import cli_env, json_lines, run_cli
from tests.impressox.system import System, wait_for


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_up_runs_the_simulator_by_default(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", IMPRESSOX_API_PORT="0", IMPRESSOX_SIMULATOR_RATE_HZ="5")
    system = System(env)
    try:
        assert "Prices   simulator (simulated prices)" in system.banner

        def ticks() -> list[dict[str, object]]:
            read = run_cli(env, "events", "read", "ticks", "--type", "price.tick")
            return [event["payload"] for event in json_lines(read.stdout)]

        assert wait_for(lambda: len(ticks()) >= 6, timeout=60)
        seen = ticks()
        assert {(t["venue"], t["simulated"]) for t in seen} == {("simulator", True)}
        assert {t["symbol"] for t in seen} == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
        system.process.send_signal(signal.SIGINT)
        assert system.process.wait(timeout=90) == 0
    finally:
        system.close()
