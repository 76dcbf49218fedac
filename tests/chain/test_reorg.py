"""Reorganisations on the local node, as the watcher will meet them.

`anvil_reorg(depth, txs)` replaces the last `depth` blocks with new ones at the same
heights (new hashes); the transactions of the replaced blocks are dropped, unless given
again in `txs` as ``[transaction, block offset]`` pairs. `evm_snapshot`/`evm_revert` make
the other kind: blocks removed, then the chain grows again from the snapshot.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import RPCEndpoint

from chain.deploy import ROUTER, route_id
from chain.deployments import ChainDeployment
from tests.chain.conftest import account, contract, swap_eth_for_usd


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), list(params))
    assert "error" not in response, response
    return response["result"]


def fee_logs(w3: Web3, deployment: ChainDeployment, block: int) -> list[Any]:
    router = contract(w3, deployment, ROUTER)
    return list(router.events.FeeCollected().get_logs(from_block=block, to_block=block))


def test_a_reorg_replaces_the_last_blocks_and_drops_their_events(
    w3: Web3, deployment: ChainDeployment
) -> None:
    trader = account(w3, 3)
    receipt = swap_eth_for_usd(w3, deployment, trader, 10**18)
    block, orphaned = receipt["blockNumber"], receipt["blockHash"]
    parent = w3.eth.get_block(block - 1)["hash"]
    assert len(fee_logs(w3, deployment, block)) == 1

    rpc(w3, "anvil_reorg", 1, [])

    assert w3.eth.block_number == block
    canonical = w3.eth.get_block(block)
    assert canonical["hash"] != orphaned
    assert canonical["parentHash"] == parent  # the common ancestor is the block before
    assert fee_logs(w3, deployment, block) == []
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(receipt["transactionHash"])


def test_a_reorg_can_move_a_transaction_into_another_block(
    w3: Web3, deployment: ChainDeployment
) -> None:
    """The swap mined at N + 1 is mined at N instead: the watcher must retract it there and
    observe it here, under a new block hash."""
    trader = account(w3, 4)
    router = contract(w3, deployment, ROUTER)
    eth = contract(w3, deployment, "tETH")
    for call, sender in (
        (eth.functions.mint(trader, 10**18), account(w3, 0)),
        (eth.functions.approve(router.address, 10**18), trader),
    ):
        w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    rpc(w3, "evm_mine")
    empty = w3.eth.block_number
    # Signed once (by the node, for its unlocked account), so the reorg re-includes the very
    # same transaction, hash and all.
    swap = router.functions.swap(route_id("tETH/tUSD"), eth.address, 10**18, 0, trader)
    transaction = swap.build_transaction({"from": trader})
    as_json = {
        key: hex(value) if isinstance(value, int) else value for key, value in transaction.items()
    }
    signed = rpc(w3, "eth_signTransaction", as_json)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed))
    assert receipt["blockNumber"] == empty + 1

    rpc(w3, "anvil_reorg", 2, [[signed, 0]])

    assert w3.eth.block_number == empty + 1
    assert fee_logs(w3, deployment, empty + 1) == []
    (moved,) = fee_logs(w3, deployment, empty)
    assert moved["transactionHash"] == receipt["transactionHash"]  # same transaction...
    assert moved["blockHash"] != w3.eth.get_block(empty - 1)["hash"]
    assert moved["blockHash"] == w3.eth.get_block(empty)["hash"]  # ...in another block


def test_a_snapshot_reverted_removes_blocks_that_new_ones_then_replace(
    w3: Web3, deployment: ChainDeployment
) -> None:
    snapshot = rpc(w3, "evm_snapshot")
    receipt = swap_eth_for_usd(w3, deployment, account(w3, 5), 10**18)
    assert rpc(w3, "evm_revert", snapshot) is True
    assert w3.eth.block_number < receipt["blockNumber"]
    while w3.eth.block_number < receipt["blockNumber"]:
        rpc(w3, "evm_mine")
    assert w3.eth.get_block(receipt["blockNumber"])["hash"] != receipt["blockHash"]
    assert fee_logs(w3, deployment, receipt["blockNumber"]) == []
