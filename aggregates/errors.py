"""What a command can be refused for, as errors a boundary can map (API 4xx, CLI exit 2)."""

from __future__ import annotations

from events.errors import ImpressoxError


class DomainError(ImpressoxError):
    """A command that the aggregate's current state does not allow (e.g. resume a
    deleted rule). The message says why."""


class InvalidCommandError(DomainError):
    """A command with an invalid argument; `field` names it (``condition.threshold``)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class NotFoundError(DomainError):
    """No aggregate with that id (or none of that kind)."""


class UserDeletedError(NotFoundError):
    """The user was deleted: nothing more can be done for them (404, like an unknown one)."""


class ConcurrentUpdateError(DomainError):
    """Another command changed the aggregate first; reload it and try again."""
