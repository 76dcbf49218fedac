"""The chain part of `impressox up`: which chain the system follows, and how it got there.

Three cases, decided once at start:

- CHAIN_RPC_URL set by the operator: that chain. Only the watcher runs; nothing is
  started, deployed or simulated there.
- Otherwise, with IMPRESSOX_CHAIN=embedded (the default): a local anvil as a child
  process (`embedded.chain`: 127.0.0.1, a free port, its state in ``<data>/chain`` so a
  restart keeps blocks and contracts), our contracts deployed once (the deployments file
  remembers them; a later start sends nothing), then the watcher and the seeded activity
  simulator run as children of the supervisor.
- Otherwise no chain: IMPRESSOX_CHAIN=off, or no anvil to run (no Node/npm, or
  contracts/node_modules not installed), or anvil would not start (a damaged state
  file, say), or the contracts could not be deployed. The rest of the system runs; the
  banner's one line says why and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from web3 import Web3
from web3.exceptions import Web3Exception

from chain.deploy import deploy
from chain.errors import DeploymentFailedError
from chain.simulator import DEMO_WALLETS
from chain.urls import redact_rpc_url
from events.errors import InfrastructureError
from impressox.embedded.chain import CONTRACTS_DIR, ChainUnavailableError, EmbeddedChain
from impressox.settings import Settings

DEPLOY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ChainPart:
    """What `up` runs for the chain, and the banner's words for it."""

    mode: Literal["embedded", "external", "off"]
    rpc_url: str | None = None
    """The URL children are given as CHAIN_RPC_URL (embedded only: an operator's is theirs)."""
    node: EmbeddedChain | None = None
    demo_wallet: str | None = None
    """The simulated wallet the demo trader watches (embedded only)."""
    why_off: str | None = None

    @property
    def watched(self) -> bool:
        return self.mode != "off"

    @property
    def simulated(self) -> bool:
        return self.mode == "embedded"

    def banner(self, settings: Settings) -> str:
        if self.mode == "embedded" and self.node is not None:
            return (
                f"local anvil, chain {self.node.chain_id}, {self.rpc_url}   (simulated activity;"
                f" data in {self.node.data_dir.resolve()})"
            )
        if self.mode == "external":
            nodes = ", ".join(redact_rpc_url(url) for url in settings.chain_rpc_urls())
            return f"{nodes}   (CHAIN_RPC_URL; the watcher follows it, nothing simulated)"
        return f"off: {self.why_off}"


def start_chain(
    settings: Settings, *, process_group: int = 0, contracts_dir: Path = CONTRACTS_DIR
) -> ChainPart:
    """Decide the chain, starting and deploying the local one if that is the choice.

    `contracts_dir` is where anvil is looked for (its node_modules) before PATH.
    """
    if settings.chain_rpc_url is not None:
        return ChainPart("external")
    if settings.chain == "off":
        return ChainPart("off", why_off="IMPRESSOX_CHAIN=off (unset it to run the local chain)")
    node = EmbeddedChain(
        settings.data_dir / "chain",
        port=settings.embedded_chain_port,
        process_group=process_group,
        contracts_dir=contracts_dir,
    )
    try:
        url = node.start()
    except ChainUnavailableError as error:
        return ChainPart("off", why_off=str(error))
    except InfrastructureError as error:  # it exited or hung while starting
        return ChainPart("off", why_off=_did_not_start(error, node))
    try:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
        accounts = w3.eth.accounts
        deploy(w3, settings.deployments_file(), sender=accounts[0], timeout=DEPLOY_TIMEOUT_S)
    except (DeploymentFailedError, Web3Exception, OSError) as error:
        node.stop()
        return ChainPart(
            "off", why_off=f"our contracts could not be deployed to the local chain: {error}"
        )
    return ChainPart("embedded", rpc_url=url, node=node, demo_wallet=accounts[DEMO_WALLETS[0]])


def _did_not_start(error: InfrastructureError, node: EmbeddedChain) -> str:
    """The banner's words for an anvil that exited or hung while starting: the first line
    of what went wrong (anvil's own error, when it said one), and where the rest is."""
    said = [line.strip(" |") for line in str(error).splitlines() if "error:" in line.lower()]
    reason = said[-1].strip() if said else str(error).splitlines()[0]
    return (
        f"the local chain did not start ({reason}); see {node.data_dir / node.log_name}"
        f" (if its {node.state_file.name} is damaged: delete {node.data_dir.parent} for a"
        " fresh start)"
    )
