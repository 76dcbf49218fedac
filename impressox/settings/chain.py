"""The chain watcher: nodes, confirmations, reorg depth, pacing, deployments."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from chain.urls import redact_rpc_url
from events.errors import ConfigurationError
from impressox.settings.env import env_alias as _env


class ChainSettings(BaseModel):
    """The chain watcher: nodes, confirmations, reorg depth, pacing, deployments."""

    chain_rpc_url: SecretStr | None = Field(
        None,
        validation_alias=_env("chain_rpc_url", "CHAIN_RPC_URL"),
        description="JSON-RPC URL of the chain to watch (http or https); several, comma-separated,"
        " for failover. A secret: a provider's URL holds its key. Unset: no chain is watched.",
    )
    chain: Literal["embedded", "off"] = Field(
        "embedded", validation_alias=_env("chain"),
        description="`impressox up` without CHAIN_RPC_URL: `embedded` runs a local chain (anvil"
        " from contracts/node_modules, our contracts deployed, simulated activity, the chain"
        " watcher); `off` runs no chain.",
    )  # fmt: skip
    embedded_chain_port: int = Field(
        0, ge=0, le=65535, validation_alias=_env("embedded_chain_port"),
        description="Port of the embedded chain's JSON-RPC; 0 picks a free one.",
    )  # fmt: skip
    chain_simulate_every_s: float = Field(
        3.0, ge=0.1, le=3600, validation_alias=_env("chain_simulate_every_s"),
        description="Seconds between the embedded chain's simulated transactions.",
    )  # fmt: skip
    chain_id: int | None = Field(
        None, ge=1, le=2**63 - 1, validation_alias=_env("chain_id"),
        description="The chain CHAIN_RPC_URL must serve, checked at start. Unset: the first"
        " node's.",
    )  # fmt: skip
    chain_confirmations: dict[int, int] = Field(
        default_factory=lambda: {1: 12, 31337: 2},
        validation_alias=_env("chain_confirmations"),
        description="Blocks deep a chain event must be to be confirmed, by chain id (JSON); a"
        " chain not named here is refused until it is.",
    )
    chain_reorg_depth: int = Field(
        64, ge=1, le=10_000, validation_alias=_env("chain_reorg_depth"),
        description="The deepest reorg the watcher follows (the recent blocks it keeps; at least"
        " every chain's confirmations). A deeper one stops it for an operator to look.",
    )  # fmt: skip
    chain_start_block: int | None = Field(
        None, ge=0, validation_alias=_env("chain_start_block"),
        description="The block a chain with no cursor yet starts at. Unset: its head at the"
        " watcher's first start.",
    )  # fmt: skip
    chain_poll_interval_s: float = Field(
        0.25, gt=0, le=60, validation_alias=_env("chain_poll_interval_s"),
        description="How often the watcher asks for the next block once it is due (it learns"
        " the chain's pace and sleeps until then).",
    )  # fmt: skip
    chain_range_blocks: int = Field(
        2000, ge=1, le=1_000_000, validation_alias=_env("chain_range_blocks"),
        description="Most blocks per eth_getLogs when catching up or backfilling; shrunk to what"
        " the node serves, grown back after.",
    )  # fmt: skip
    chain_rpc_timeout_s: float = Field(
        10.0, gt=0, le=300, validation_alias=_env("chain_rpc_timeout_s"),
        description="Timeout of one JSON-RPC call (a timed-out eth_getLogs range is shrunk).",
    )  # fmt: skip
    chain_deployments: Path | None = Field(
        None,
        validation_alias=_env("chain_deployments"),
        description="The deployments file naming our contracts per chain (always watched, decoded"
        " with our ABIs). Unset: chain/deployments.json in the data directory, if it exists.",
    )

    @field_validator("chain_rpc_url")
    @classmethod
    def _rpc_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        urls = [url.strip() for url in value.get_secret_value().split(",")]
        for url in urls:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(
                    f"{redact_rpc_url(url)} is not an http(s) URL (several are separated by"
                    " commas; ws:// is not supported: give the node's HTTP URL)"
                )
        return SecretStr(",".join(urls))

    @field_validator("chain_confirmations")
    @classmethod
    def _positive_confirmations(cls, table: dict[int, int]) -> dict[int, int]:
        for chain_id, blocks in table.items():
            if chain_id < 1 or blocks < 1:
                raise ValueError(f"chain {chain_id}: chain ids and confirmations are 1 or more")
        return table

    @model_validator(mode="after")
    def _confirmations_within_reorg_depth(self) -> ChainSettings:
        for chain_id, blocks in self.chain_confirmations.items():
            if blocks > self.chain_reorg_depth:
                raise ConfigurationError(
                    f"invalid setting IMPRESSOX_CHAIN_CONFIRMATIONS: chain {chain_id} waits"
                    f" {blocks} blocks, more than IMPRESSOX_CHAIN_REORG_DEPTH"
                    f" ({self.chain_reorg_depth}) keeps"
                )
        return self
