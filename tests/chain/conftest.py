"""A real local chain per test session (anvil, on a free port) with our contracts deployed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from chain.artifacts import load_artifact
from chain.deploy import ROUTER, deploy, route_id
from chain.deployments import ChainDeployment
from impressox.embedded.chain import ChainUnavailableError, EmbeddedChain


@pytest.fixture(scope="session")
def chain_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    node = EmbeddedChain(tmp_path_factory.mktemp("chain"))
    try:
        url = node.start()
    except ChainUnavailableError as error:
        pytest.fail(f"chain part off: {error}")
    yield url
    node.stop()


@pytest.fixture(scope="session")
def w3(chain_url: str) -> Web3:
    return Web3(Web3.HTTPProvider(chain_url))


@pytest.fixture(scope="session")
def deployments_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deployments") / "deployments.json"


@pytest.fixture(scope="session")
def deployment(w3: Web3, deployments_file: Path) -> ChainDeployment:
    """The local plan, deployed once per session from anvil's first (unlocked) account."""
    return deploy(w3, deployments_file, sender=account(w3, 0))


def account(w3: Web3, index: int) -> ChecksumAddress:
    """One of anvil's deterministic development accounts (unlocked: the node signs for it)."""
    return list(w3.eth.accounts)[index]


def contract(w3: Web3, deployment: ChainDeployment, name: str) -> Contract:
    """A deployed contract by its name in the deployments file, with the ABI it names."""
    recorded = deployment.contracts[name]
    return w3.eth.contract(
        address=Web3.to_checksum_address(recorded.address), abi=load_artifact(recorded.abi).abi
    )


def swap_eth_for_usd(w3: Web3, deployment: ChainDeployment, trader: str, amount: int) -> TxReceipt:
    """Mints `amount` tETH to `trader` (the deployer owns the tokens), approves the router,
    and swaps it for tUSD through the router's proxy; returns the swap's receipt."""
    owner = account(w3, 0)
    eth = contract(w3, deployment, "tETH")
    router = contract(w3, deployment, ROUTER)
    for call, sender in (
        (eth.functions.mint(trader, amount), owner),
        (eth.functions.approve(router.address, amount), trader),
    ):
        w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    tx = router.functions.swap(route_id("tETH/tUSD"), eth.address, amount, 0, trader)
    receipt = w3.eth.wait_for_transaction_receipt(tx.transact({"from": trader}))
    assert receipt["status"] == 1
    return receipt


def send(w3: Web3, transaction: dict[str, Any]) -> TxReceipt:
    """Send from an unlocked account and wait for the receipt (anvil mines at once)."""
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(transaction))  # type: ignore[arg-type]


def deploy_pool(
    w3: Web3, deployment: ChainDeployment, liquidity: int
) -> tuple[Contract, TxReceipt]:
    """A fresh pool of tETH and tUSD, in no deployments file, with liquidity added (its
    `LiquidityAdded` and `Sync` logs, for a watcher that has no ABI for it)."""
    artifact = load_artifact("MinimalPool")
    eth, usd = contract(w3, deployment, "tETH"), contract(w3, deployment, "tUSD")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    created = w3.eth.wait_for_transaction_receipt(
        factory.constructor(eth.address, usd.address).transact({"from": account(w3, 0)})
    )
    address = created["contractAddress"]
    assert address is not None
    pool = w3.eth.contract(address=address, abi=artifact.abi)
    return pool, add_liquidity(w3, deployment, pool, liquidity)


def add_liquidity(w3: Web3, deployment: ChainDeployment, pool: Contract, amount: int) -> TxReceipt:
    """Mint `amount` of both tokens to the deployer, approve the pool, add them to it."""
    owner = account(w3, 0)
    for token in (contract(w3, deployment, "tETH"), contract(w3, deployment, "tUSD")):
        for call in (
            token.functions.mint(owner, amount),
            token.functions.approve(pool.address, amount),
        ):
            w3.eth.wait_for_transaction_receipt(call.transact({"from": owner}))
    return w3.eth.wait_for_transaction_receipt(
        pool.functions.addLiquidity(amount, amount).transact({"from": owner})
    )
