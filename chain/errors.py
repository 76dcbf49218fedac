"""What the chain package can be refused or fail for, under the project's error root.

Input errors (a name or file that is wrong) are the caller's to fix (CLI exit 2, HTTP 4xx);
a deployment that fails on the node is infrastructure (exit 1).
"""

from __future__ import annotations

from events.errors import ConfigurationError, ImpressoxError, InfrastructureError


class UnknownContractError(ImpressoxError):
    """No exported artifact has that name; the message lists the ones there are."""


class InvalidArtifactError(ImpressoxError):
    """A file in chain/abi is not an export of the expected shape (edited by hand?)."""


class UnknownEventError(ImpressoxError):
    """A contract's ABI has no event of that name; the message lists the ones it has."""


class DeploymentsFileError(ConfigurationError):
    """A deployments file is not valid JSON of the expected shape; the message names the field."""


class DeploymentFailedError(InfrastructureError):
    """A deployment transaction was refused or reverted; the message names the step."""


class InvalidAbiError(ImpressoxError):
    """An ABI given to register is not a list of well-formed entries; the message says which."""


class InvalidBlockRangeError(ImpressoxError):
    """A block range is empty, negative or reaches past what is confirmed; the message says
    what would be accepted."""


class ChainIdMismatchError(ConfigurationError):
    """A node serves another chain than the setting (or the other nodes) say."""


class RpcError(InfrastructureError):
    """A node answered a JSON-RPC call with an error we cannot recover from by retrying."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class RangeTooLargeError(RpcError):
    """An `eth_getLogs` range (or its result) is beyond what the node will serve."""


class BlockUnavailableError(RpcError):
    """The node does not know that block (yet): a lagging or syncing node, not a reorg."""


class MalformedReplyError(InfrastructureError):
    """A node's reply lacks a field or holds a malformed one; the message names it."""


class NodeUnavailableError(InfrastructureError):
    """No node answered after retries and failover; the message says what went wrong last."""


class DeepReorgError(InfrastructureError):
    """A reorganisation reached below the blocks the watcher keeps: an operator must look."""


class WatcherLeaseLostError(InfrastructureError):
    """Another watcher process follows this chain now; this one stops appending."""


class CursorMovedError(InfrastructureError):
    """The chain's cursor is not where this watcher left it (another writer); nothing was
    written, and the watcher reloads its state."""
