"""Why the live API refuses a client's message: the text goes back as an error message."""

from __future__ import annotations

from events.errors import ImpressoxError


class LiveRequestError(ImpressoxError):
    """A message the server refuses; the connection stays open."""


class InvalidCursorError(LiveRequestError):
    """A cursor that this server did not issue, or issued for another topic."""


class TopicError(LiveRequestError):
    """A topic that does not exist, or that the caller may not see."""
