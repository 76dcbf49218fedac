"""`impressox up` and the chain: the local chain with the demo wallet's alert, an
operator's chain, or none, and the banner saying which."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from impressox.chain_part import start_chain
from impressox.embedded.chain import ChainUnavailableError, find_anvil
from impressox.settings import Settings
from tests.impressox.cli_support import cli_env, json_lines, run_cli
from tests.impressox.system import System, wait_for

DEMO_WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
"""anvil's development account 1, the simulator's first demo wallet."""


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings.model_validate({"data_dir": tmp_path / "data", **values})


def test_without_npm_or_anvil_the_chain_is_off_and_the_banner_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    part = start_chain(_settings(tmp_path), contracts_dir=tmp_path / "contracts")
    assert (part.mode, part.rpc_url, part.node, part.watched) == ("off", None, None, False)
    assert part.banner(_settings(tmp_path)) == (
        "off: npm not found: the local chain needs Node.js 20+ with npm, then `make contracts-deps`"
    )
    assert not (tmp_path / "data" / "chain" / "deployments.json").exists()


def test_with_npm_but_no_node_modules_the_banner_says_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    npm = tmp_path / "bin" / "npm"
    npm.parent.mkdir()
    npm.write_text("#!/bin/sh\n")
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", str(npm.parent))
    part = start_chain(_settings(tmp_path), contracts_dir=tmp_path / "contracts")
    assert part.banner(_settings(tmp_path)) == (
        "off: anvil is not installed: run `make contracts-deps` (npm ci in contracts/)"
    )


def test_a_local_chain_that_will_not_start_is_off_and_the_banner_says_why(tmp_path: Path) -> None:
    """A damaged state file makes anvil exit at once: the rest of the system runs."""
    settings = _settings(tmp_path)
    state = tmp_path / "data" / "chain" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text("not json")
    part = start_chain(settings)
    assert (part.mode, part.node, part.watched) == ("off", None, False)
    banner = part.banner(settings)
    assert banner.startswith("off: the local chain did not start (error: invalid value")
    assert "failed to parse json file" in banner
    assert f"see {state.parent / 'anvil.log'}" in banner


def test_chain_off_by_setting_starts_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path, chain="off")
    part = start_chain(settings)
    assert part.banner(settings) == "off: IMPRESSOX_CHAIN=off (unset it to run the local chain)"
    assert not (tmp_path / "data" / "chain").exists()


def test_an_operators_chain_is_followed_not_started_nor_simulated(tmp_path: Path) -> None:
    settings = _settings(tmp_path, chain_rpc_url="https://node.example/v2/secret-key")
    part = start_chain(settings)
    assert (part.mode, part.watched, part.simulated, part.node) == (
        "external",
        True,
        False,
        None,
    )
    banner = part.banner(settings)
    assert banner.startswith("https://node.example/…   (CHAIN_RPC_URL")
    assert "secret-key" not in banner
    assert not (tmp_path / "data" / "chain").exists()


def test_a_setting_outside_its_choices_is_refused() -> None:
    with pytest.raises(ValueError, match="chain"):
        Settings.model_validate({"chain": "maybe"})


def _wallet_alerts(env: dict[str, str]) -> list[dict[str, object]]:
    read = run_cli(env, "events", "read", "alerts")
    return [
        alert["payload"]
        for alert in json_lines(read.stdout)
        if alert["payload"]["condition"] == "transferred"
        and DEMO_WALLET.lower() in str(alert["payload"]).lower()
    ]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_up_runs_the_local_chain_and_the_demo_wallet_alerts_within_a_minute(
    tmp_path: Path,
) -> None:
    try:
        find_anvil()
    except ChainUnavailableError as error:
        pytest.skip(f"chain part off: {error}")
    env = cli_env(tmp_path / "data", IMPRESSOX_API_PORT="0")
    env.pop("CHAIN_RPC_URL", None)
    system = System(env)
    try:
        chain = next(line for line in system.banner.splitlines() if line.startswith("  Chain"))
        assert "local anvil, chain 31337, http://127.0.0.1:" in chain
        assert "simulated activity" in chain
        assert f"watches the simulated wallet {DEMO_WALLET}" in system.banner
        assert system.server_pid("anvil")
        assert wait_for(lambda: bool(_wallet_alerts(env)), timeout=60), "no demo wallet alert"
        status = run_cli({**env, "CHAIN_RPC_URL": chain.split()[5]}, "chain", "status", "--check")
        assert status.returncode == 0, status.stdout + status.stderr
        system.process.send_signal(signal.SIGINT)
        assert system.process.wait(timeout=90) == 0
        assert wait_for(lambda: not system.alive_children(), timeout=15)
    finally:
        system.close()

    deployments = tmp_path / "data" / "chain" / "deployments.json"
    deployed = deployments.read_text()
    again = System(env)
    try:
        assert "watches the simulated wallet" not in again.banner, "the demo is made once"
        assert deployments.read_text() == deployed, "the contracts were deployed again"
        before = len(_wallet_alerts(env))
        assert wait_for(lambda: len(_wallet_alerts(env)) > before, timeout=60)
    finally:
        again.close()
