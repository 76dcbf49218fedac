"""The knowledge base: Chroma, embeddings and chunking."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from impressox.settings.env import env_alias as _env


class KnowledgeSettings(BaseModel):
    """The knowledge base: Chroma, embeddings and chunking."""

    chroma_url: str | None = Field(
        None, pattern=r"^https?://", validation_alias=_env("chroma_url", "CHROMA_URL"),
        description="Chroma server holding the knowledge base. Unset: an embedded Chroma in"
        " the data directory (chroma/).",
    )  # fmt: skip
    embeddings: Literal["hashing", "minilm", "openai"] = Field(
        "hashing", validation_alias=_env("embeddings"),
        description="How the knowledge base embeds text: hashing (no model), minilm (the"
        " minilm extra) or openai. Changing it needs `impressox knowledge reindex`.",
    )  # fmt: skip
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=_env("openai_api_key", "OPENAI_API_KEY"),
        description="Key for OpenAI embeddings (sent as a bearer token, never logged).",
    )  # fmt: skip
    openai_base_url: str = Field(
        "https://api.openai.com/v1", pattern=r"^https?://",
        validation_alias=_env("openai_base_url"),
        description="Root of an OpenAI-compatible API serving /embeddings.",
    )  # fmt: skip
    openai_embedding_model: str = Field(
        "text-embedding-3-small", min_length=1, validation_alias=_env("openai_embedding_model"),
        description="OpenAI embedding model.",
    )  # fmt: skip
    openai_embedding_dimensions: int = Field(
        1536, ge=1, le=8192, validation_alias=_env("openai_embedding_dimensions"),
        description="Length of OpenAI embedding vectors (text-embedding-3 models can shorten"
        " theirs; others must match the model's own).",
    )  # fmt: skip
    chunk_tokens: int = Field(
        256, ge=16, le=8192, validation_alias=_env("chunk_tokens"),
        description="Longest chunk of a document the knowledge base indexes, in tokens.",
    )  # fmt: skip
    chunk_overlap_tokens: int = Field(
        32, ge=0, le=4096, validation_alias=_env("chunk_overlap_tokens"),
        description="Tokens consecutive chunks share, so no passage is cut out of context;"
        " less than IMPRESSOX_CHUNK_TOKENS.",
    )  # fmt: skip
