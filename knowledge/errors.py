"""Errors of the knowledge base, under the project's error root."""

from __future__ import annotations

from events.errors import ConfigurationError, DependencyUnavailableError, ImpressoxError


class UnknownEmbeddingsError(ConfigurationError):
    """An embeddings name nobody registered, or one whose optional extra is missing."""


class EmbeddingMismatchError(ConfigurationError):
    """The active collection was built with other embeddings than the configured ones.

    Vectors of two models are not comparable: searching or writing across them would
    silently return nonsense, so we refuse and say how to reindex.
    """

    def __init__(self, collection: str, recorded: str, configured: str) -> None:
        self.collection = collection
        self.recorded = recorded
        self.configured = configured
        super().__init__(
            f"knowledge base collection {collection!r} holds vectors of {recorded} but the"
            f" configured embeddings are {configured}: set IMPRESSOX_EMBEDDINGS back, or run"
            " `impressox knowledge reindex --embeddings NAME`"
        )


class KnowledgeBaseUnavailableError(DependencyUnavailableError):
    """Chroma or an embeddings service cannot be reached; entries wait for it."""


class DocumentConflictError(ImpressoxError):
    """A document with this id is in the knowledge base already, with other content.

    Adding is idempotent, not an update: a changed document is removed, then added.
    """


class DocumentNotFoundError(ImpressoxError):
    """No document with this id in the caller's scope (never added, or removed)."""
