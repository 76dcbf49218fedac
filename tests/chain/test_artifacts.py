"""The exported ABIs load, name what the watcher relies on, and refuse unknown names."""

from __future__ import annotations

import pytest

from chain.artifacts import artifact_names, load_artifact
from chain.errors import UnknownContractError, UnknownEventError


def test_every_deployed_contract_is_exported_with_its_bytecode() -> None:
    assert artifact_names() == ("ERC1967Proxy", "FeeRouter", "MinimalPool", "TestToken")
    for name in artifact_names():
        artifact = load_artifact(name)
        assert artifact.name == name
        assert artifact.bytecode.startswith("0x60")  # creation code, not empty
        assert artifact.compiler.evmVersion == "cancun"
        assert artifact.compiler.version.startswith("0.8.28+")


def test_the_router_declares_the_events_the_watcher_decodes() -> None:
    router = load_artifact("FeeRouter")
    assert set(router.event_names) >= {"FeeCollected", "Swap", "RouteSet", "Upgraded"}
    fee = router.event("FeeCollected")
    assert [(i["name"], i["type"], i["indexed"]) for i in fee["inputs"]] == [
        ("payer", "address", True),
        ("token", "address", True),
        ("amount", "uint256", False),
        ("routeId", "bytes32", False),
    ]
    swap = router.event("Swap")
    assert [i["name"] for i in swap["inputs"] if i["indexed"]] == ["payer", "recipient", "routeId"]


def test_an_unknown_event_name_is_refused_with_the_ones_there_are() -> None:
    with pytest.raises(UnknownEventError) as refused:
        load_artifact("FeeRouter").event("FeesCollected")
    assert str(refused.value) == (
        "FeeRouter has no event 'FeesCollected'; its events: FeeChanged, FeeCollected,"
        " FeeRecipientChanged, Initialized, OwnershipTransferred, RouteSet, Swap, Upgraded"
    )


def test_an_unknown_contract_is_refused_with_the_ones_there_are() -> None:
    with pytest.raises(UnknownContractError, match="no exported contract named 'Router'; there"):
        load_artifact("Router")
