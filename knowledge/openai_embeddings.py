"""OpenAI embeddings, over the ``/embeddings`` endpoint any OpenAI-compatible server offers.

Plain httpx rather than an SDK: one POST is all we need, and the base URL can point at a
self-hosted server speaking the same protocol. Transport errors, 429s and 5xx mean the
service is down or busy (entries wait, see `KnowledgeBaseUnavailableError`); other 4xx
mean the request itself is wrong and fail the attempt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import httpx
from pydantic import SecretStr

from events.errors import ImpressoxError
from knowledge.errors import KnowledgeBaseUnavailableError, UnknownEmbeddingsError

MAX_INPUTS = 256
"""Texts per request, well under OpenAI's limit of 2048 inputs."""


class EmbeddingRequestError(ImpressoxError):
    """The embeddings service refused a request as invalid (a 4xx other than 429)."""


class OpenAIEmbeddings:
    """Vectors from an OpenAI-compatible embeddings endpoint."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | None,
        model: str,
        dimension: int,
        timeout_s: float = 30.0,
    ) -> None:
        if api_key is None:
            raise UnknownEmbeddingsError(
                "openai embeddings need a key: set IMPRESSOX_OPENAI_API_KEY (or OPENAI_API_KEY)"
            )
        self._model = model
        self._dimension = dimension
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key.get_secret_value()}"},
            timeout=timeout_s,
        )

    @property
    def model(self) -> str:
        return f"openai/{self._model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), MAX_INPUTS):
            vectors.extend(await self._request(texts[start : start + MAX_INPUTS]))
        return vectors

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, texts: Sequence[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self._model, "input": list(texts)}
        if self._model.startswith("text-embedding-3"):
            body["dimensions"] = self._dimension  # only these models can shorten vectors
        try:
            response = await self._client.post("embeddings", json=body)
        except httpx.TransportError as error:
            raise KnowledgeBaseUnavailableError(
                f"embeddings service unreachable: {type(error).__name__}"
            ) from error
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise KnowledgeBaseUnavailableError(f"embeddings service answered {status}")
        if status >= HTTPStatus.BAD_REQUEST:
            raise EmbeddingRequestError(
                f"embeddings service refused the request ({status}): {response.text[:200]}"
            )
        data = sorted(response.json()["data"], key=lambda item: int(item["index"]))
        if len(data) != len(texts):
            raise EmbeddingRequestError(f"asked for {len(texts)} vectors, got {len(data)}")
        return [self._checked([float(x) for x in item["embedding"]]) for item in data]

    def _checked(self, vector: list[float]) -> list[float]:
        if len(vector) != self._dimension:
            raise EmbeddingRequestError(
                f"{self.model} returned {len(vector)} dimensions, configured"
                f" {self._dimension}: set IMPRESSOX_OPENAI_EMBEDDING_DIMENSIONS to match"
            )
        norm = math.sqrt(sum(x * x for x in vector))
        return vector if norm == 0.0 else [x / norm for x in vector]
