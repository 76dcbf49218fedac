"""Which events a contract can emit, by name and arguments: what a chain rule may name.

A rule on ``FeeCollected`` of a contract whose ABI has no such event would never fire,
so it is refused where it enters (the API, the agent) with the field named
(``target.event``, ``target.where.0.arg``). A contract's events are those of the ABIs
the watcher would decode it with (`chain.abis`): ours (the deployments file, on any
chain), those registered for its address (on any chain), and the standards' (ERC-20 and
ERC-721 `Transfer`, `Approval`, `ApprovalForAll`), which any contract may emit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from aggregates.errors import InvalidCommandError
from aggregates.rule_spec import ChainTarget, RuleSpec
from chain.abis import STANDARD_ABIS, AbiRegistered
from chain.artifacts import load_artifact
from chain.deployments import load_deployments
from events.store import EventStore

EventArgs = Mapping[str, frozenset[str]]
"""Event name -> the names of its arguments."""


def events_of(abi: Iterable[Any]) -> dict[str, frozenset[str]]:
    """The events an ABI declares, with their arguments' names."""
    return {
        str(entry["name"]): frozenset(str(item.get("name", "")) for item in entry.get("inputs", []))
        for entry in abi
        if isinstance(entry, dict) and entry.get("type") == "event"
    }


class ContractEvents:
    """The events of each contract, from the deployments file and the registered ABIs."""

    def __init__(self, store: EventStore, deployments_file: Path) -> None:
        self.store = store
        self.deployments_file = deployments_file

    async def declared(self, address: str) -> dict[str, frozenset[str]]:
        """Every event `address` may emit (read afresh: a deployment or a registration
        made a moment ago counts)."""
        lowered = address.lower()
        found: dict[str, frozenset[str]] = {}
        for abi in STANDARD_ABIS:
            for name, args in events_of(cast("list[Any]", abi)).items():
                found[name] = found.get(name, frozenset()) | args
        for deployment in load_deployments(self.deployments_file).chains.values():
            for contract in deployment.contracts.values():
                if contract.address.lower() == lowered:
                    found |= events_of(cast("list[Any]", load_artifact(contract.abi).abi))
        async for recorded in self.store.read_stream(
            self.store.names.chain_abis(), types=[AbiRegistered.event_type]
        ):
            payload = recorded.event.payload
            if isinstance(payload, AbiRegistered) and payload.address == lowered:
                found |= events_of(payload.abi)
        return found

    async def refuse_unknown(self, spec: RuleSpec) -> None:
        """Refuse a chain rule naming an event its contract does not declare, or a filter
        on an argument its event does not have."""
        target = spec.target
        if not isinstance(target, ChainTarget) or target.contract is None or not target.event:
            return
        events = await self.declared(target.contract)
        args = events.get(target.event)
        if args is None:
            known = ", ".join(sorted(events))
            raise InvalidCommandError(
                f"{target.contract} declares no event {target.event!r} (known: {known});"
                " register its ABI with `impressox chain abi` first",
                field="target.event",
            )
        for position, check in enumerate(target.where):
            if check.arg not in args:
                raise InvalidCommandError(
                    f"{target.event} has no argument {check.arg!r}"
                    f" (it has: {', '.join(sorted(args))})",
                    field=f"target.where.{position}.arg",
                )
