"""The contract every post source keeps, whatever it reads from.

Like a price source, a post source is opened (where it checks what it was given), yields
batches of `PostScraped` payloads, and is closed; the runner appends them. One promise
more: the runner pulls the next batch only once the previous one is stored, so code a
source runs after its ``yield`` (saving a cursor) runs only for posts that are stored.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from events.catalog import PostScraped


class PostSource(Protocol):
    """A producer of posts. See `tests/sources/posts/test_contract.py`."""

    @property
    def name(self) -> str:
        """The registry name, e.g. ``x``."""

    @property
    def total(self) -> int | None:
        """How many posts it will yield in all, once opened; None for a live feed."""

    async def open(self) -> None:
        """Check the configuration against reality; raise `SourceInputError` if wrong."""

    def batches(self) -> AsyncGenerator[list[PostScraped], None]:
        """Posts as they come, a batch at a time; resumed only after the batch is stored."""

    async def aclose(self) -> None:
        """Release connections; safe to call more than once and after a failed open."""
