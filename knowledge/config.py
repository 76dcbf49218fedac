"""The knowledge base's configuration, handed in by the composition root.

A value rather than the settings, so the knowledge base neither reads nor imports them:
the root fills it in once (`impressox.contexts.knowledge_config`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from handlers.declaration import HandlerContext

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase


@dataclass(frozen=True)
class OpenAIEmbeddingsConfig:
    base_url: str
    api_key: SecretStr | None
    model: str
    dimension: int


@dataclass(frozen=True)
class KnowledgeConfig:
    """Where the knowledge base lives (a Chroma server, else embedded at `chroma_path`),
    the prefix of its collections, and how texts are chunked and embedded."""

    chroma_url: str | None
    chroma_path: Path
    prefix: str
    embeddings: str
    """The registry name of the embeddings (`knowledge.embeddings.EMBEDDINGS_NAMES`)."""
    openai: OpenAIEmbeddingsConfig
    chunk_tokens: int
    chunk_overlap_tokens: int


@dataclass(frozen=True)
class KnowledgeContext(HandlerContext):
    """For the `knowledge` and `memory_index` handlers: the process's knowledge base
    (Chroma and the embeddings, opened and closed by the composition root), and its
    configuration (how to chunk)."""

    knowledge: KnowledgeBase
