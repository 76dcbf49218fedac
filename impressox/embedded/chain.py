"""A private local chain: anvil (Foundry's development node), as a child process like Redis.

Where anvil comes from: the npm package `@foundry-rs/anvil`, pinned in contracts/package.json
beside the contracts' own tools, installed by `make contracts-deps` (`npm ci` in contracts/).
Its binary ships inside a per-platform npm package, so the install downloads nothing but
packages, and it runs offline. An `anvil` on PATH (a Foundry install) is used when the npm
one is missing. With neither, starting raises `ChainUnavailableError`, whose message says
why and what to install: the caller reports "chain part off: ..." and runs the rest.

The node listens on 127.0.0.1 on a free port, keeps its state (accounts, contracts, blocks
and receipts) in the data directory across restarts (``--state``, also dumped every few
seconds so a killed node loses little), and has anvil's deterministic development
accounts, unlocked: the deployer sends from them without any key in our code.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from events.errors import InfrastructureError
from impressox.embedded.server import EmbeddedServer

LOCAL_CHAIN_ID = 31337
"""The chain id development nodes use by convention (anvil's and Hardhat's default)."""

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"

_PLATFORMS = {
    ("linux", "x86_64"): "linux-amd64",
    ("linux", "aarch64"): "linux-arm64",
    ("linux", "arm64"): "linux-arm64",
    ("darwin", "x86_64"): "darwin-amd64",
    ("darwin", "arm64"): "darwin-arm64",
    ("win32", "amd64"): "win32-amd64",
}


class ChainUnavailableError(InfrastructureError):
    """No anvil to run; the message says why, in words fit for "chain part off: <message>"."""


def npm_anvil(contracts_dir: Path = CONTRACTS_DIR) -> Path | None:
    """The anvil binary `npm ci` put in contracts/node_modules for this platform, if any."""
    key = (sys.platform, platform.machine().lower())
    suffix = _PLATFORMS.get(key)
    if suffix is None:
        return None
    name = "anvil.exe" if sys.platform == "win32" else "anvil"
    binary = contracts_dir / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / name
    return binary if binary.exists() else None


def find_anvil(contracts_dir: Path = CONTRACTS_DIR) -> Path:
    """anvil from contracts/node_modules (the pinned one), else from PATH; else why not."""
    pinned = npm_anvil(contracts_dir)
    if pinned is not None:
        return pinned
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    if shutil.which("npm") is None:
        raise ChainUnavailableError(
            "npm not found: the local chain needs Node.js 20+ with npm, then `make contracts-deps`"
        )
    raise ChainUnavailableError(
        "anvil is not installed: run `make contracts-deps` (npm ci in contracts/)"
    )


class EmbeddedChain(EmbeddedServer):
    """An anvil child process with its state in `data_dir`."""

    program = "anvil"
    log_name = "anvil.log"

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        binary: Path | None = None,
        chain_id: int = LOCAL_CHAIN_ID,
        block_time_s: float | None = None,
        state_interval_s: int | None = 5,
        contracts_dir: Path = CONTRACTS_DIR,
        startup_timeout: float = 60.0,
        process_group: int = 0,
    ) -> None:
        """`block_time_s` mines a block at that interval; None mines one per transaction.
        `state_interval_s` None keeps the chain in memory only (a benchmark's: anvil's state
        dump holds every block and grows with them, ~10 KB each, and slows the node)."""
        super().__init__(
            data_dir,
            port=port,
            binary=binary,
            startup_timeout=startup_timeout,
            process_group=process_group,
        )
        self.chain_id = chain_id
        self.block_time_s = block_time_s
        self.state_interval_s = state_interval_s
        self.contracts_dir = contracts_dir
        self._log_start = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    def _find_binary(self) -> Path:
        return find_anvil(self.contracts_dir)

    def _argv(self, binary: Path) -> list[str]:
        # Called once per start attempt, just before the child is spawned: what the log
        # holds by now is an earlier run's, which readiness must not read.
        log = self.data_dir / self.log_name
        self._log_start = log.stat().st_size if log.exists() else 0
        argv = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--color", "never",
        ]  # fmt: skip
        if self.state_interval_s is not None:
            argv += [
                "--state",
                str(self.state_file),
                "--state-interval",
                str(self.state_interval_s),
            ]
        if self.block_time_s is not None:
            argv += ["--block-time", str(self.block_time_s)]
        return argv

    def _answering_pid(self) -> int | None:
        """Our child, once it logged that it listens on our port and answers with our chain id.

        anvil's JSON-RPC does not tell its pid; but it logs "Listening on" only after it
        bound the port, so a node answering there is ours (another would have made it exit
        with "Address already in use").
        """
        child = self.child
        if child is None or f"Listening on 127.0.0.1:{self.port}" not in self._new_log():
            return None
        return child.pid if self._chain_id() == self.chain_id else None

    def _new_log(self) -> str:
        """What this run of anvil has logged so far."""
        try:
            with (self.data_dir / self.log_name).open("rb") as log:
                log.seek(self._log_start)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _chain_id(self) -> int | None:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310
                return int(json.load(response)["result"], 16)
        except (OSError, ValueError, KeyError):
            return None
