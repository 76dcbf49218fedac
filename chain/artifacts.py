"""The contracts' ABIs and creation bytecode, as exported from `contracts/` into `chain/abi/`.

The files are written by `npm run export-abi` (contracts/scripts/exports.js) and checked
against a fresh compile by the contracts' tests, so what the watcher decodes with and what
the deployer deploys is exactly what the Solidity compiles to. This module only reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

from eth_typing import ABI, ABIEvent, HexStr
from pydantic import BaseModel, ConfigDict, ValidationError

from chain.errors import InvalidArtifactError, UnknownContractError, UnknownEventError

ABI_PACKAGE = "chain"
ABI_DIR = "abi"


class CompilerSettings(BaseModel):
    """How the bytecode was compiled (for readers and for verifying on an explorer)."""

    model_config = ConfigDict(frozen=True)

    version: str
    evmVersion: str  # noqa: N815 - the name solc and the export use
    optimizer: dict[str, Any]


class _ExportedFile(BaseModel):
    """The shape of one `chain/abi/<Name>.json`."""

    contractName: str  # noqa: N815
    sourceName: str  # noqa: N815
    compiler: CompilerSettings
    abi: list[dict[str, Any]]
    bytecode: str


@dataclass(frozen=True)
class ContractArtifact:
    """One contract: what decoding its logs and deploying it need."""

    name: str
    source: str
    compiler: CompilerSettings
    abi: ABI
    bytecode: HexStr

    @property
    def event_names(self) -> tuple[str, ...]:
        """Every event the ABI declares, sorted."""
        return tuple(sorted(entry["name"] for entry in self._events()))

    def event(self, name: str) -> ABIEvent:
        """The ABI entry of the event called `name` (e.g. ``FeeCollected``)."""
        for entry in self._events():
            if entry["name"] == name:
                return entry
        raise UnknownEventError(
            f"{self.name} has no event {name!r}; its events: {', '.join(self.event_names)}"
        )

    def _events(self) -> list[ABIEvent]:
        return [entry for entry in self.abi if entry["type"] == "event"]


def artifact_names() -> tuple[str, ...]:
    """The names of every exported contract, sorted."""
    folder = resources.files(ABI_PACKAGE) / ABI_DIR
    return tuple(
        sorted(
            entry.name.removesuffix(".json")
            for entry in folder.iterdir()
            if entry.name.endswith(".json")
        )
    )


@cache
def load_artifact(name: str) -> ContractArtifact:
    """The exported contract called `name` (``FeeRouter``, ``TestToken``...)."""
    if name not in artifact_names():
        raise UnknownContractError(
            f"no exported contract named {name!r}; there are: {', '.join(artifact_names())}"
        )
    text = (resources.files(ABI_PACKAGE) / ABI_DIR / f"{name}.json").read_text()
    try:
        exported = _ExportedFile.model_validate(json.loads(text))
    except (ValueError, ValidationError) as error:  # a hand-edited file: say which
        raise InvalidArtifactError(
            f"chain/abi/{name}.json is not a valid export: {error}"
        ) from None
    return ContractArtifact(
        name=exported.contractName,
        source=exported.sourceName,
        compiler=exported.compiler,
        abi=cast("ABI", exported.abi),
        bytecode=HexStr(exported.bytecode),
    )
