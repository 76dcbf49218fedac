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
