"""The error hierarchy of Impressox.

Every error we raise on purpose derives from `ImpressoxError`, so a boundary (the CLI, the
API, a worker loop) can tell "a problem we understand and can explain" from a bug. The
subclasses are grouped by who has to act: the caller (`InvalidEventError`,
`WrongExpectedVersionError`), the operator (`ConfigurationError`, `InfrastructureError`) or
the developer who registered types (`RegistryError`).
"""

from __future__ import annotations


class ImpressoxError(Exception):
    """Root of every error Impressox raises deliberately."""


class ConfigurationError(ImpressoxError):
    """A setting is unknown, missing or invalid; the message names the setting."""


class InfrastructureError(ImpressoxError):
    """A server we depend on could not be started or reached."""


class InvalidEventError(ImpressoxError):
    """An event failed validation; nothing was written.

    `field` is the dotted path of the first offending field (``payload.price``), so
    a client can point at it.
    """

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None):
        self.field = field
        self.index = index
        prefix = f"event {index}: " if index is not None else ""
        super().__init__(prefix + message)


class UnknownEventTypeError(InvalidEventError):
    """The event's type is not registered, so its payload cannot be validated."""


class UpcastError(ImpressoxError):
    """A stored payload is at a schema version no registered upcaster can lift."""


class RegistryError(ImpressoxError):
    """A payload type, upcaster or handler was registered inconsistently."""


class WrongExpectedVersionError(ImpressoxError):
    """An append to an aggregate stream expected another version; nothing was written.

    The caller may reload the aggregate and retry the command.
    """

    def __init__(self, stream: str, expected: int, actual: int):
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(f"stream {stream} is at version {actual}, the append expected {expected}")


class BatchTooLargeError(InvalidEventError):
    """An atomic batch is larger than one Lua call should carry; split it."""


class LeaseLostError(ImpressoxError):
    """A worker tried to commit for a partition another consumer now owns."""


class DependencyUnavailableError(InfrastructureError):
    """A handler's dependency (MongoDB, a remote API) is down: not the entry's fault.

    The runtime retries such failures until the dependency is back, without counting
    them toward the dead-letter limit, so an outage never dead-letters good entries.
    `dependency` names what is down ("MongoDB"), so a process that waits for it says so
    once, however many of its partitions wait.
    """

    def __init__(self, message: str, *, dependency: str | None = None) -> None:
        self.dependency = dependency
        super().__init__(message)
