"""Simulated activity on a local development chain: something for the watcher to see.

For demos and walkthroughs, never for a real chain: it sends from the node's unlocked
development accounts, which only a development node (anvil, Hardhat) has, and the
command refuses any chain but the local one (31337). Seeded, so two runs make the same
sequence: each step is either a payment between the demo wallets (anvil's accounts 1 to
4, 0.5 to 15 ETH, so that "more than 10 ETH" alerts fire now and then) or a swap of
tETH for tUSD through our fee router by one of them (tETH minted to it first by the
deployer, account 0), which emits `FeeCollected` and `Swap` and moves tokens.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.types import Wei

from chain.artifacts import load_artifact
from chain.deploy import ROUTER, route_id
from chain.deployments import ChainDeployment

DEMO_WALLETS = range(1, 5)
"""Which of the node's development accounts the simulated traders are."""
ETH = 10**18
ROUTE = "tETH/tUSD"


@dataclass(frozen=True)
class Step:
    """What one step did, in words, and its transaction."""

    words: str
    tx_hash: str


class ActivitySimulator:
    """Sends one simulated transaction (or swap) per `step`."""

    def __init__(self, w3: Web3, deployment: ChainDeployment, *, seed: int = 16) -> None:
        self.w3 = w3
        accounts = list(w3.eth.accounts)
        self.owner = accounts[0]
        self.wallets: list[ChecksumAddress] = [accounts[i] for i in DEMO_WALLETS]
        self.rng = random.Random(seed)
        self.eth = self._contract(deployment, "tETH")
        self.router = self._contract(deployment, ROUTER)

    def step(self) -> Step:
        sender, recipient = self.rng.sample(self.wallets, 2)
        if self.rng.random() < 0.5:
            value = round(self.rng.uniform(0.5, 15), 2)
            tx = self.w3.eth.send_transaction(
                {"from": sender, "to": recipient, "value": Wei(int(value * ETH))}
            )
            self.w3.eth.wait_for_transaction_receipt(tx)
            return Step(f"{sender} paid {value:g} ETH to {recipient}", tx.to_0x_hex())
        amount = round(self.rng.uniform(0.1, 5), 2)
        raw = int(amount * ETH)
        for call, caller in (
            (self.eth.functions.mint(sender, raw), self.owner),
            (self.eth.functions.approve(self.router.address, raw), sender),
        ):
            self.w3.eth.wait_for_transaction_receipt(call.transact({"from": caller}))
        swap = self.router.functions.swap(route_id(ROUTE), self.eth.address, raw, 0, sender)
        tx = swap.transact({"from": sender})
        self.w3.eth.wait_for_transaction_receipt(tx)
        return Step(f"{sender} swapped {amount:g} tETH for tUSD", tx.to_0x_hex())

    def _contract(self, deployment: ChainDeployment, name: str) -> Contract:
        recorded = deployment.contracts[name]
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(recorded.address),
            abi=load_artifact(recorded.abi).abi,
        )
