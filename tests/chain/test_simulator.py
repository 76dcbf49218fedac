"""The simulated activity on the local chain: payments between demo wallets and swaps
through the router, the same for the same seed, and `impressox chain simulate`."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from chain.deploy import ROUTER
from chain.deployments import ChainDeployment
from chain.simulator import ActivitySimulator
from tests.chain.conftest import contract
from tests.impressox.cli_support import cli_env, run_cli


def test_steps_pay_and_swap_between_the_demo_wallets(w3: Web3, deployment: ChainDeployment) -> None:
    first = w3.eth.block_number + 1
    simulator = ActivitySimulator(w3, deployment, seed=7)
    made = [simulator.step() for _ in range(8)]
    payments = [step for step in made if " paid " in step.words]
    swaps = [step for step in made if " swapped " in step.words]
    assert payments
    assert swaps
    assert len(payments) + len(swaps) == 8
    fees = contract(w3, deployment, ROUTER).events.FeeCollected().get_logs(from_block=first)
    assert {log["transactionHash"].to_0x_hex() for log in fees} == {s.tx_hash for s in swaps}
    demo = set(list(w3.eth.accounts)[1:5])
    for step in payments:
        transaction = w3.eth.get_transaction(step.tx_hash)  # type: ignore[arg-type]
        assert {transaction["from"], transaction["to"]} <= demo
    again = ActivitySimulator(w3, deployment, seed=7)
    assert [again.step().words for _ in range(3)] == [step.words for step in made[:3]]


def test_the_command_deploys_if_needed_and_labels_each_step_simulated(
    tmp_path: Path, chain_url: str, deployment: ChainDeployment, deployments_file: Path
) -> None:
    env = cli_env(
        tmp_path, CHAIN_RPC_URL=chain_url, IMPRESSOX_CHAIN_DEPLOYMENTS=str(deployments_file)
    )
    result = run_cli(env, "chain", "simulate", "--steps", "2", "--every", "0.1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("simulated: ") for line in lines)
