"""Where our contracts are deployed: one JSON file, chain id -> contract name -> address.

The watcher reads it to know which addresses are ours and which ABI decodes each; the
local deployer (`chain.deploy`) writes it for the embedded chain, and an operator writes
it by hand for a real one::

    {
      "format": 1,
      "chains": {
        "31337": {
          "contracts": {
            "FeeRouter": {"address": "0x...", "abi": "FeeRouter", "block": 9,
                          "block_hash": "0x..."},
            "tUSD": {"address": "0x...", "abi": "TestToken", "block": 1}
          }
        }
      }
    }

`abi` names an export in `chain/abi/`; `block` is where the contract was deployed (the
watcher's backfill need not start earlier); `block_hash` is optional, and when present
lets the deployer tell a chain it deployed to from a fresh one that reuses the chain id.
A file that breaks this shape is refused whole, naming the first bad field.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from aggregates.evm import EvmAddress
from aggregates.validation import field_path
from chain.artifacts import artifact_names
from chain.errors import DeploymentsFileError

FORMAT: Literal[1] = 1
_BLOCK_HASH = re.compile(r"^0x[0-9a-f]{64}$")


def _known_abi(name: str) -> str:
    if name not in artifact_names():
        raise ValueError(
            f"no exported ABI named {name!r}; there are: {', '.join(artifact_names())}"
        )
    return name


def _block_hash(value: str) -> str:
    lowered = value.lower()
    if not _BLOCK_HASH.match(lowered):
        raise ValueError("a block hash is 0x followed by 64 hexadecimal digits")
    return lowered


BlockHash = Annotated[str, AfterValidator(_block_hash)]


class ContractDeployment(BaseModel):
    """One deployed contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: EvmAddress
    abi: Annotated[str, AfterValidator(_known_abi)]
    block: int = Field(ge=0)
    block_hash: BlockHash | None = None


class ChainDeployment(BaseModel):
    """Our contracts on one chain, by name (``FeeRouter``, ``tUSD``, ``pool:tETH/tUSD``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contracts: dict[str, ContractDeployment]

    @property
    def first_block(self) -> int:
        """The earliest block any of them was deployed at: where reading can start."""
        return min((contract.block for contract in self.contracts.values()), default=0)

    def address(self, name: str) -> str:
        """The address of the contract called `name`."""
        try:
            return self.contracts[name].address
        except KeyError:
            known = ", ".join(sorted(self.contracts))
            raise DeploymentsFileError(f"no contract named {name!r}; there are: {known}") from None


class Deployments(BaseModel):
    """The whole file: every chain's deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal[1] = FORMAT
    chains: dict[Annotated[int, Field(gt=0)], ChainDeployment] = Field(default_factory=dict)

    def for_chain(self, chain_id: int) -> ChainDeployment | None:
        return self.chains.get(chain_id)

    def with_chain(self, chain_id: int, deployment: ChainDeployment) -> Deployments:
        """A copy with `chain_id`'s deployment replaced (other chains kept as they are)."""
        return Deployments(chains={**self.chains, chain_id: deployment})


def load_deployments(path: Path) -> Deployments:
    """The deployments in `path`; none at all if the file does not exist yet."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Deployments()
    try:
        data = json.loads(text)
    except ValueError as error:
        raise DeploymentsFileError(f"{path}: not JSON: {error}") from None
    try:
        return Deployments.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = field_path(first["loc"], data) or "(the whole file)"
        message = first["msg"].removeprefix("Value error, ")
        raise DeploymentsFileError(f"{path}: {where}: {message}") from None


def save_deployments(path: Path, deployments: Deployments) -> None:
    """Write `deployments` to `path` atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(deployments.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as temporary:
        temporary.write(text)
        temporary.flush()
        os.fsync(temporary.fileno())
    os.replace(temporary.name, path)
