"""Embeddings behind one interface, and the registry that picks them by name.

Every implementation turns texts into vectors of a fixed `dimension`; `model` names
exactly what produced them and is recorded on the collection, so vectors of two models
are never mixed (see `store`). Implementations are imported when chosen: MiniLM pulls in
PyTorch, which only the ``minilm`` extra installs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from knowledge.errors import UnknownEmbeddingsError

if TYPE_CHECKING:
    from knowledge.config import KnowledgeConfig

EMBEDDINGS_NAMES = ("hashing", "minilm", "openai")


class Embeddings(Protocol):
    """Texts in, one unit-length vector per text out, in order."""

    @property
    def name(self) -> str:
        """The registry name (``hashing``): part of the collection's name."""
        ...

    @property
    def model(self) -> str:
        """What exactly produced the vectors (``openai/text-embedding-3-small``)."""
        ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def aclose(self) -> None:
        """Release connections or models."""
        ...


def create_embeddings(name: str, config: KnowledgeConfig) -> Embeddings:
    """The embeddings registered as `name`, configured from `config`."""
    if name == "hashing":
        from knowledge.hashing import HashingEmbeddings  # noqa: PLC0415

        return HashingEmbeddings()
    if name == "minilm":
        from knowledge.minilm import MiniLMEmbeddings  # noqa: PLC0415 - pulls in PyTorch

        return MiniLMEmbeddings.load()
    if name == "openai":
        from knowledge.openai_embeddings import OpenAIEmbeddings  # noqa: PLC0415

        return OpenAIEmbeddings(
            base_url=config.openai.base_url,
            api_key=config.openai.api_key,
            model=config.openai.model,
            dimension=config.openai.dimension,
        )
    raise UnknownEmbeddingsError(
        f"unknown embeddings {name!r} (known: {', '.join(EMBEDDINGS_NAMES)})"
    )
