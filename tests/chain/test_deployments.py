"""The deployments file: round trips, and refuses a bad file whole, naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chain.deployments import (
    ChainDeployment,
    ContractDeployment,
    Deployments,
    load_deployments,
    save_deployments,
)
from chain.errors import DeploymentsFileError

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
HASH = "0x" + "ab" * 32


def a_file(tmp_path: Path, contract: dict[str, Any], chain: str = "31337") -> Path:
    path = tmp_path / "deployments.json"
    path.write_text(json.dumps({"format": 1, "chains": {chain: {"contracts": {"R": contract}}}}))
    return path


def test_a_missing_file_holds_no_deployment(tmp_path: Path) -> None:
    assert load_deployments(tmp_path / "none.json") == Deployments()


def test_what_is_saved_loads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deployments.json"
    router = ContractDeployment(address=ADDRESS.lower(), abi="FeeRouter", block=9, block_hash=HASH)
    token = ContractDeployment(address=ADDRESS, abi="TestToken", block=1)
    saved = (
        Deployments()
        .with_chain(1, ChainDeployment(contracts={"FeeRouter": router}))
        .with_chain(31337, ChainDeployment(contracts={"tUSD": token}))
    )
    save_deployments(path, saved)
    loaded = load_deployments(path)
    assert loaded == saved
    assert loaded.chains[1].contracts["FeeRouter"].address == ADDRESS  # checksummed
    assert loaded.chains[31337].first_block == 1
    assert json.loads(path.read_text())["chains"]["31337"]["contracts"]["tUSD"] == {
        "address": ADDRESS,
        "abi": "TestToken",
        "block": 1,
    }
    assert [entry.name for entry in path.parent.iterdir()] == ["deployments.json"]


def test_replacing_one_chain_keeps_the_others() -> None:
    one = ChainDeployment(
        contracts={"A": ContractDeployment(address=ADDRESS, abi="FeeRouter", block=1)}
    )
    two = ChainDeployment(contracts={})
    both = Deployments().with_chain(1, one).with_chain(5, two)
    assert both.with_chain(5, one).chains == {1: one, 5: one}


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        (
            {"address": "0x12", "abi": "FeeRouter", "block": 1},
            "chains.31337.contracts.R.address: an EVM address is 0x followed by 40 hexadecimal"
            " digits",
        ),
        (
            {"address": ADDRESS.replace("F", "f", 1), "abi": "FeeRouter", "block": 1},
            "chains.31337.contracts.R.address: the address's mixed-case checksum is wrong",
        ),
        (
            {"address": ADDRESS, "abi": "Router", "block": 1},
            "chains.31337.contracts.R.abi: no exported ABI named 'Router'; there are:"
            " ERC1967Proxy, FeeRouter, MinimalPool, TestToken",
        ),
        (
            {"address": ADDRESS, "abi": "FeeRouter", "block": -1},
            "chains.31337.contracts.R.block: Input should be greater than or equal to 0",
        ),
        (
            {"address": ADDRESS, "abi": "FeeRouter", "block": 1, "block_hash": "0x12"},
            "chains.31337.contracts.R.block_hash: a block hash is 0x followed by 64 hexadecimal",
        ),
        (
            {"address": ADDRESS, "abi": "FeeRouter"},
            "chains.31337.contracts.R.block: Field required",
        ),
        (
            {"address": ADDRESS, "abi": "FeeRouter", "block": 1, "owner": ADDRESS},
            "chains.31337.contracts.R.owner: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_contract_entry_is_refused_naming_its_field(
    tmp_path: Path, contract: dict[str, Any], message: str
) -> None:
    path = a_file(tmp_path, contract)
    with pytest.raises(DeploymentsFileError) as refused:
        load_deployments(path)
    assert str(refused.value).startswith(f"{path}: {message}")


def test_a_chain_id_must_be_a_positive_integer(tmp_path: Path) -> None:
    good = {"address": ADDRESS, "abi": "FeeRouter", "block": 1}
    with pytest.raises(DeploymentsFileError, match=r"chains\.mainnet"):
        load_deployments(a_file(tmp_path, good, chain="mainnet"))
    with pytest.raises(DeploymentsFileError, match="greater than 0"):
        load_deployments(a_file(tmp_path, good, chain="0"))


def test_a_file_that_is_not_json_or_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deployments.json"
    path.write_text("{chains:")
    with pytest.raises(DeploymentsFileError, match="not JSON"):
        load_deployments(path)
    path.write_text(json.dumps({"format": 2, "chains": {}}))
    with pytest.raises(DeploymentsFileError, match="format: Input should be 1"):
        load_deployments(path)


def test_asking_for_a_contract_not_deployed_names_the_ones_there_are() -> None:
    chain = ChainDeployment(
        contracts={"tUSD": ContractDeployment(address=ADDRESS, abi="TestToken", block=1)}
    )
    assert chain.address("tUSD") == ADDRESS
    with pytest.raises(DeploymentsFileError, match="no contract named 'tETH'; there are: tUSD"):
        chain.address("tETH")
