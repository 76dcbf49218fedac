"""Deploying the local plan to a real node: everything there, once, and failures said."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from chain.deploy import (
    LOCAL_PLAN,
    ROUTER,
    ROUTER_IMPLEMENTATION,
    DeploymentPlan,
    deploy,
    is_deployed,
    route_id,
)
from chain.deployments import (
    ChainDeployment,
    ContractDeployment,
    Deployments,
    load_deployments,
    save_deployments,
)
from chain.errors import DeploymentFailedError
from impressox.embedded.process import free_port
from tests.chain.conftest import account, contract

# keccak256("eip1967.proxy.implementation") - 1: where the proxy keeps its implementation.
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC


def test_the_local_plan_is_deployed_and_recorded(
    w3: Web3, deployment: ChainDeployment, deployments_file: Path
) -> None:
    tokens = [token.symbol for token in LOCAL_PLAN.tokens]
    pools = [pool.contract_name for pool in LOCAL_PLAN.pools]
    assert set(deployment.contracts) == {*tokens, *pools, ROUTER, ROUTER_IMPLEMENTATION}
    assert load_deployments(deployments_file).for_chain(31337) == deployment
    for name, recorded in deployment.contracts.items():
        assert w3.eth.get_code(Web3.to_checksum_address(recorded.address)), name
        block = w3.eth.get_block(recorded.block)
        assert block["hash"].to_0x_hex() == recorded.block_hash, name

    router = contract(w3, deployment, ROUTER)
    assert router.functions.version().call() == 1
    assert router.functions.owner().call() == account(w3, 0)
    assert router.functions.feeBps().call() == LOCAL_PLAN.fee_bps
    stored = w3.eth.get_storage_at(router.address, IMPLEMENTATION_SLOT)
    assert Web3.to_checksum_address(stored[-20:]) == deployment.address(ROUTER_IMPLEMENTATION)
    for pool in LOCAL_PLAN.pools:
        assert router.functions.poolOf(route_id(pool.route)).call() == deployment.address(
            pool.contract_name
        )


def test_tokens_have_their_decimals_and_pools_their_liquidity(
    w3: Web3, deployment: ChainDeployment
) -> None:
    for spec in LOCAL_PLAN.tokens:
        token = contract(w3, deployment, spec.symbol)
        assert token.functions.symbol().call() == spec.symbol
        assert token.functions.decimals().call() == spec.decimals
    pool = contract(w3, deployment, "pool:tETH/tUSD")
    eth = contract(w3, deployment, "tETH")
    assert eth.functions.balanceOf(pool.address).call() >= 1_000 * 10**18


def test_a_second_run_finds_the_deployment_and_sends_nothing(
    w3: Web3, deployment: ChainDeployment, deployments_file: Path
) -> None:
    block = w3.eth.block_number
    nonce = w3.eth.get_transaction_count(account(w3, 0))
    assert deploy(w3, deployments_file, sender=account(w3, 0)) == deployment
    assert w3.eth.block_number == block
    assert w3.eth.get_transaction_count(account(w3, 0)) == nonce


@pytest.mark.parametrize(
    "changed",
    [
        {"block_hash": "0x" + "00" * 32},  # same chain id, another history (a fresh node)
        {"address": "0x" + "11" * 20, "block_hash": None},  # no code there
    ],
)
def test_a_recorded_deployment_that_is_not_on_this_chain_is_made_again(
    w3: Web3, deployment: ChainDeployment, tmp_path: Path, changed: dict[str, str | None]
) -> None:
    elsewhere = ChainDeployment(
        contracts={
            name: recorded.model_copy(update=changed)
            for name, recorded in deployment.contracts.items()
        }
    )
    path = tmp_path / "deployments.json"
    save_deployments(path, Deployments().with_chain(31337, elsewhere))
    made = deploy(w3, path, sender=account(w3, 0))
    assert made.address(ROUTER) != deployment.address(ROUTER)
    assert is_deployed(w3, made)
    assert load_deployments(path).for_chain(31337) == made


def test_a_recorded_deployment_missing_part_of_the_plan_is_made_whole(
    w3: Web3, deployment: ChainDeployment, tmp_path: Path
) -> None:
    only_tokens = ChainDeployment(
        contracts={token.symbol: deployment.contracts[token.symbol] for token in LOCAL_PLAN.tokens}
    )
    path = tmp_path / "deployments.json"
    save_deployments(path, Deployments().with_chain(31337, only_tokens))
    made = deploy(w3, path, sender=account(w3, 0))
    assert made.contracts.keys() == LOCAL_PLAN.contract_names
    assert made.address(ROUTER) != deployment.address(ROUTER)


def test_a_deployment_signed_with_a_local_key(w3: Web3, tmp_path: Path) -> None:
    """A real chain's way: no unlocked account, web3's signing middleware with our key."""
    key = Account.create()
    w3.provider.make_request("anvil_setBalance", [key.address, hex(10**20)])  # type: ignore[arg-type]
    signing = Web3(w3.provider)
    signing.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(key), layer=0)
    made = deploy(signing, tmp_path / "deployments.json", sender=key.address)
    router = contract(w3, made, ROUTER)
    assert router.functions.owner().call() == key.address
    assert key.address not in list(w3.eth.accounts)


def test_a_reverted_step_is_named_with_its_error_and_nothing_is_recorded(
    w3: Web3, tmp_path: Path
) -> None:
    path = tmp_path / "deployments.json"
    elsewhere = ChainDeployment(
        contracts={"tUSD": ContractDeployment(address="0x" + "11" * 20, abi="TestToken", block=1)}
    )
    save_deployments(path, Deployments().with_chain(1, elsewhere))
    before = path.read_text()
    too_high = DeploymentPlan(tokens=LOCAL_PLAN.tokens[:1], pools=(), fee_bps=5_000)
    with pytest.raises(DeploymentFailedError) as failed:
        deploy(w3, path, sender=account(w3, 0), plan=too_high)
    assert str(failed.value) == (
        "deploy FeeRouter: reverted with FeeTooHigh(feeBps=5000, maxFeeBps=1000)"
    )
    assert path.read_text() == before


def test_a_node_that_cannot_be_reached_is_a_failure_that_says_so(tmp_path: Path) -> None:
    unreachable = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}"))
    path = tmp_path / "deployments.json"
    with pytest.raises(DeploymentFailedError, match=r"^reading the chain: .*Connection refused"):
        deploy(unreachable, path, sender="0x" + "11" * 20)
    assert not path.exists()
