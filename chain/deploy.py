"""Deploying our contracts to a JSON-RPC node: test tokens, pools, the fee router behind its proxy.

What is deployed is a `DeploymentPlan` (`LOCAL_PLAN` for the embedded chain); the bytecode
is the export in `chain/abi/`, and the result goes into the deployments file under the
node's chain id. A second run against the same chain finds every contract still there and
sends nothing: `deploy` is idempotent, so `impressox up` can call it on every start.

Transactions are sent ``{"from": sender}``: a development node (anvil) signs for its own
unlocked accounts; for a real chain, add web3's ``SignAndSendRawMiddlewareBuilder`` for your
key to the `Web3` first. No key ever passes through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import BlockNotFound, ContractCustomError, Web3Exception
from web3.types import TxReceipt

from chain.artifacts import artifact_names, load_artifact
from chain.decoding import describe_revert
from chain.deployments import (
    ChainDeployment,
    ContractDeployment,
    load_deployments,
    save_deployments,
)
from chain.errors import DeploymentFailedError

ROUTER = "FeeRouter"
"""The router's name in the deployments file: the proxy's address, the one to watch."""
ROUTER_IMPLEMENTATION = "FeeRouterImplementation"


@dataclass(frozen=True)
class TokenSpec:
    symbol: str
    name: str
    decimals: int


@dataclass(frozen=True)
class PoolSpec:
    """A pool of `base` and `quote`, seeded with whole units of each (its starting price)."""

    base: str
    quote: str
    base_liquidity: int
    quote_liquidity: int

    @property
    def route(self) -> str:
        """The route's name, ``tETH/tUSD``; its id on chain is `route_id` of it."""
        return f"{self.base}/{self.quote}"

    @property
    def contract_name(self) -> str:
        return f"pool:{self.route}"


@dataclass(frozen=True)
class DeploymentPlan:
    tokens: tuple[TokenSpec, ...]
    pools: tuple[PoolSpec, ...]
    fee_bps: int

    @property
    def contract_names(self) -> frozenset[str]:
        """The names its contracts are recorded under in the deployments file."""
        return frozenset(
            [token.symbol for token in self.tokens]
            + [pool.contract_name for pool in self.pools]
            + [ROUTER, ROUTER_IMPLEMENTATION]
        )


LOCAL_PLAN = DeploymentPlan(
    tokens=(
        TokenSpec("tUSD", "Impressox Test USD", 6),
        TokenSpec("tETH", "Impressox Test Ether", 18),
        TokenSpec("tBTC", "Impressox Test Bitcoin", 8),
    ),
    pools=(
        PoolSpec("tETH", "tUSD", base_liquidity=1_000, quote_liquidity=3_000_000),
        PoolSpec("tBTC", "tUSD", base_liquidity=100, quote_liquidity=6_000_000),
    ),
    fee_bps=30,
)
"""The embedded chain's contracts: three tokens of 6, 8 and 18 decimals, two pools, a 0.3% fee."""


def route_id(route: str) -> bytes:
    """A route's on-chain id: its name in ASCII, right-padded to 32 bytes (readable in logs)."""
    encoded = route.encode("ascii")
    if len(encoded) > 32:
        raise ValueError(f"a route name fits in 32 bytes: {route!r}")
    return encoded.ljust(32, b"\0")


def deploy(
    w3: Web3,
    deployments_path: Path,
    *,
    sender: str,
    plan: DeploymentPlan = LOCAL_PLAN,
    fee_recipient: str | None = None,
    timeout: float = 60.0,
) -> ChainDeployment:
    """Deploy `plan` from `sender` unless this chain already has it; record it in the file.

    Returns the chain's deployment, found or made. A deployment recorded for this chain id
    that lacks a contract of the plan, or whose contracts are gone (a fresh node that reuses
    the id), is made again.
    """
    deployments = load_deployments(deployments_path)
    try:
        chain_id = w3.eth.chain_id
        recorded = deployments.for_chain(chain_id)
        if (
            recorded is not None
            and plan.contract_names <= recorded.contracts.keys()
            and is_deployed(w3, recorded)
        ):
            return recorded
    except (Web3Exception, OSError) as error:
        raise DeploymentFailedError(f"reading the chain: {error}") from error
    made = _Deployer(w3, Web3.to_checksum_address(sender), timeout).run(
        plan, Web3.to_checksum_address(fee_recipient or sender)
    )
    save_deployments(deployments_path, deployments.with_chain(chain_id, made))
    return made


def is_deployed(w3: Web3, deployment: ChainDeployment) -> bool:
    """Whether every contract has code on this chain, at a block with the recorded hash."""
    for contract in deployment.contracts.values():
        if not w3.eth.get_code(Web3.to_checksum_address(contract.address)):
            return False
        if contract.block_hash is not None:
            try:
                block = w3.eth.get_block(contract.block)
            except BlockNotFound:
                return False
            if HexBytes(block["hash"]).to_0x_hex() != contract.block_hash:
                return False
    return True


class _Deployer:
    """Sends the plan's transactions one by one, each checked, and records what it made."""

    def __init__(self, w3: Web3, sender: ChecksumAddress, timeout: float) -> None:
        self.w3 = w3
        self.sender = sender
        self.timeout = timeout
        self.made: dict[str, ContractDeployment] = {}

    def run(self, plan: DeploymentPlan, fee_recipient: ChecksumAddress) -> ChainDeployment:
        """1. tokens; 2. pools, seeded with liquidity; 3. the router's implementation and
        its proxy, initialised in the proxy's constructor; 4. a route per pool."""
        tokens = {token.symbol: (self._token(token), token.decimals) for token in plan.tokens}
        pools = {pool.route: self._pool(pool, tokens) for pool in plan.pools}
        implementation = self._create(ROUTER_IMPLEMENTATION, "FeeRouter")
        initialize = implementation.encode_abi(
            "initialize", args=[self.sender, fee_recipient, plan.fee_bps]
        )
        router = self._create(
            ROUTER, "ERC1967Proxy", implementation.address, initialize, abi="FeeRouter"
        )
        for route, pool in pools.items():
            self._call(f"route {route}", router.functions.setRoute(route_id(route), pool.address))
        return ChainDeployment(contracts=self.made)

    def _token(self, spec: TokenSpec) -> Contract:
        return self._create(
            spec.symbol, "TestToken", spec.name, spec.symbol, spec.decimals, self.sender
        )

    def _pool(self, spec: PoolSpec, tokens: dict[str, tuple[Contract, int]]) -> Contract:
        (base, base_decimals), (quote, quote_decimals) = tokens[spec.base], tokens[spec.quote]
        pool = self._create(spec.contract_name, "MinimalPool", base.address, quote.address)
        amounts = {
            base.address: spec.base_liquidity * 10**base_decimals,
            quote.address: spec.quote_liquidity * 10**quote_decimals,
        }
        for token in (base, quote):
            amount = amounts[token.address]
            self._call(f"mint for {spec.contract_name}", token.functions.mint(self.sender, amount))
            self._call(
                f"approve {spec.contract_name}", token.functions.approve(pool.address, amount)
            )
        # The pool orders its pair by address, as token0 and token1.
        token0, token1 = sorted(amounts, key=lambda address: int(address, 16))
        self._call(
            f"liquidity of {spec.contract_name}",
            pool.functions.addLiquidity(amounts[token0], amounts[token1]),
        )
        return pool

    def _create(self, name: str, code: str, *args: Any, abi: str | None = None) -> Contract:
        """Deploys the exported contract `code` as `name`, recorded with `abi` (its own if
        None: the proxy is recorded with the router's, which decodes what it emits)."""
        abi = abi or code
        artifact = load_artifact(code)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._call(f"deploy {name}", factory.constructor(*args))
        address = receipt["contractAddress"]
        if address is None:
            raise DeploymentFailedError(f"deploy {name}: the receipt names no contract address")
        self.made[name] = ContractDeployment(
            address=address,
            abi=abi,
            block=receipt["blockNumber"],
            block_hash=HexBytes(receipt["blockHash"]).to_0x_hex(),
        )
        return self._at(address, abi)

    def _at(self, address: ChecksumAddress, abi: str) -> Contract:
        return self.w3.eth.contract(address=address, abi=load_artifact(abi).abi)

    def _call(self, step: str, call: ContractFunction | ContractConstructor) -> TxReceipt:
        try:
            tx_hash = call.transact({"from": self.sender})
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.timeout, poll_latency=0.05
            )
        except ContractCustomError as error:
            raise DeploymentFailedError(f"{step}: reverted with {_revert_reason(error)}") from error
        except (Web3Exception, OSError) as error:
            raise DeploymentFailedError(f"{step}: {error}") from error
        if receipt["status"] != 1:
            raise DeploymentFailedError(f"{step}: transaction {tx_hash.to_0x_hex()} reverted")
        return receipt


def _revert_reason(error: ContractCustomError) -> str:
    raw = error.data if isinstance(error.data, str) else error.message
    if raw is None:
        return "a custom error without data"
    data = HexBytes(raw)
    abis = [load_artifact(name).abi for name in artifact_names()]
    return describe_revert(data, abis) or f"the custom error {data.to_0x_hex()}"
