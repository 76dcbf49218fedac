"""The embedded chain: anvil as a child process, its state kept, its absence explained."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from web3 import Web3

from chain.deploy import ROUTER, deploy
from events.errors import InfrastructureError
from impressox.embedded.chain import (
    LOCAL_CHAIN_ID,
    ChainUnavailableError,
    EmbeddedChain,
    find_anvil,
    npm_anvil,
)
from tests.polling import eventually

CHAIN_OFF = "chain part off: "


def started(node: EmbeddedChain) -> Web3:
    try:
        url = node.start()
    except ChainUnavailableError as error:
        pytest.fail(CHAIN_OFF + str(error))
    return Web3(Web3.HTTPProvider(url))


def test_the_chain_keeps_its_contracts_and_blocks_across_restarts(tmp_path: Path) -> None:
    deployments = tmp_path / "deployments.json"
    node = EmbeddedChain(tmp_path / "chain")
    w3 = started(node)
    try:
        assert node.url.startswith("http://127.0.0.1:")
        assert w3.eth.chain_id == LOCAL_CHAIN_ID
        owner, *_ = w3.eth.accounts
        made = deploy(w3, deployments, sender=owner)
        head = w3.eth.get_block("latest")
    finally:
        node.stop()
    assert node.state_file.exists()

    again = EmbeddedChain(tmp_path / "chain")
    w3 = started(again)
    try:
        assert w3.eth.get_block(head["number"])["hash"] == head["hash"]
        assert w3.eth.get_code(Web3.to_checksum_address(made.address(ROUTER)))
        assert deploy(w3, deployments, sender=owner) == made
        assert w3.eth.block_number == head["number"]  # found, nothing sent
    finally:
        again.stop()


def test_a_block_time_mines_blocks_without_transactions(tmp_path: Path) -> None:
    node = EmbeddedChain(tmp_path, block_time_s=0.1)
    w3 = started(node)
    try:
        first = w3.eth.block_number
        eventually(lambda: w3.eth.block_number >= first + 3)  # no transaction: the clock mines
    finally:
        node.stop()


def test_a_taken_port_fails_with_anvils_own_words(tmp_path: Path) -> None:
    first = EmbeddedChain(tmp_path / "a")
    started(first)
    try:
        with pytest.raises(InfrastructureError) as failure:
            EmbeddedChain(tmp_path / "b", port=first.port, startup_timeout=20).start()
        assert "anvil exited with code 1" in str(failure.value)
        assert "Address already in use" in str(failure.value)
        assert "anvil.log" in str(failure.value)
    finally:
        first.stop()


def executable(folder: Path, name: str) -> None:
    folder.mkdir(exist_ok=True)
    program = folder / name
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


def test_without_npm_the_chain_is_off_and_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    node = EmbeddedChain(tmp_path / "chain", contracts_dir=tmp_path / "no-contracts")
    with pytest.raises(ChainUnavailableError) as off:
        node.start()
    assert str(off.value) == (
        "npm not found: the local chain needs Node.js 20+ with npm, then `make contracts-deps`"
    )
    assert node.child is None  # nothing was started


def test_with_npm_but_no_install_the_chain_is_off_and_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable(tmp_path / "bin", "npm")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    node = EmbeddedChain(tmp_path / "chain", contracts_dir=tmp_path / "no-contracts")
    with pytest.raises(
        ChainUnavailableError, match=r"^anvil is not installed: run `make contracts-deps`"
    ):
        node.start()


def test_an_anvil_on_path_serves_when_npm_installed_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Foundry install on PATH is enough; the npm one, when there, is preferred (pinned)."""
    executable(tmp_path / "bin", "anvil")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert find_anvil(tmp_path / "no-contracts") == tmp_path / "bin" / "anvil"
    pinned = npm_anvil()
    if pinned is None:
        pytest.fail(CHAIN_OFF + "run `make contracts-deps`")
    assert find_anvil() == pinned
