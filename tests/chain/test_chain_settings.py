"""The IMPRESSOX_CHAIN_* settings: several nodes, a secret URL, confirmations per chain."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from events.errors import ConfigurationError
from impressox.settings_loader import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("IMPRESSOX_", "CHAIN_")):
            monkeypatch.delenv(name)


def test_several_nodes_are_a_secret_list_and_the_deployments_have_a_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHAIN_RPC_URL", "https://a.example/v3/k3y, http://10.0.0.2:8545")
    monkeypatch.setenv("IMPRESSOX_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.chain_rpc_urls() == ["https://a.example/v3/k3y", "http://10.0.0.2:8545"]
    assert "k3y" not in repr(settings)
    assert "k3y" not in str(settings.model_dump())
    assert settings.deployments_file() == tmp_path / "chain" / "deployments.json"
    assert settings.chain_confirmations == {1: 12, 31337: 2}


def test_no_url_is_no_chain() -> None:
    assert load_settings().chain_rpc_urls() == []


def test_a_websocket_url_is_refused_without_showing_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAIN_RPC_URL", "wss://a.example/ws/k3y")
    with pytest.raises(
        ConfigurationError, match=r"wss://a\.example/… is not an http\(s\) URL"
    ) as e:
        load_settings()
    assert "k3y" not in str(e.value)


def test_confirmations_deeper_than_the_reorg_depth_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMPRESSOX_CHAIN_CONFIRMATIONS", '{"8453": 80}')
    with pytest.raises(ConfigurationError, match="chain 8453 waits 80 blocks, more than"):
        load_settings()
    monkeypatch.setenv("IMPRESSOX_CHAIN_REORG_DEPTH", "100")
    assert load_settings().chain_confirmations == {8453: 80}
    monkeypatch.setenv("IMPRESSOX_CHAIN_CONFIRMATIONS", '{"8453": 0}')
    with pytest.raises(ConfigurationError, match="chain ids and confirmations are 1 or more"):
        load_settings()
