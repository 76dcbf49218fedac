"""What can stop a price source, grouped by who has to act.

Network trouble is not here: sources retry it with backoff and carry on. These are the
problems retrying cannot fix: a source, exchange, symbol or file the operator named
wrongly (`SourceInputError`, exit code 2 at the command line) or a venue refusing us for
good (`VenueError`, exit code 1); and a venue telling us to slow down
(`RateLimitedError`), which the polling loop turns into a wait.
"""

from __future__ import annotations

from pathlib import Path

from events.errors import ImpressoxError, InfrastructureError


class SourceError(ImpressoxError):
    """Root of the errors a price source raises on purpose."""


class SourceInputError(SourceError):
    """The source was given something it cannot use; the message says what to change."""


class UnknownSourceError(SourceInputError):
    """No price source is registered under the name asked for."""


class ReplayFileError(SourceInputError):
    """A replay file is missing, unreadable or malformed; nothing of it was appended."""

    def __init__(self, path: Path, message: str, *, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


class VenueError(SourceError, InfrastructureError):
    """The venue refused us for a reason retrying will not fix (credentials, a ban)."""


class RateLimitedError(SourceError):
    """The venue refused a request for its rate limit; try again after `retry_after_s`."""

    def __init__(self, venue: str, retry_after_s: float) -> None:
        self.venue = venue
        self.retry_after_s = retry_after_s
        super().__init__(f"{venue} rate limit reached: retrying in {retry_after_s:.0f} s")
