"""What every `Embeddings` implementation must do; one subclass per implementation."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

import pytest

from knowledge.embeddings import Embeddings
from tests.knowledge.support import cosine

TEXTS = [
    "Bitcoin rallies as ETF inflows hit a record",
    "bitcoin rallies again on record ETF inflows",
    "The chef's pasta recipe needs fresh basil",
]


class EmbeddingsContract(ABC):
    @abstractmethod
    def create(self) -> AsyncIterator[Embeddings]:
        """Yield the embeddings under test, released afterwards."""

    @pytest.fixture
    async def embeddings(self) -> AsyncIterator[Embeddings]:
        async for embeddings in self.create():
            yield embeddings

    async def test_one_unit_vector_of_the_dimension_per_text(self, embeddings: Embeddings) -> None:
        vectors = await embeddings.embed(TEXTS)
        assert len(vectors) == len(TEXTS)
        for vector in vectors:
            assert len(vector) == embeddings.dimension
            assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0)

    async def test_the_same_text_gives_the_same_vector(self, embeddings: Embeddings) -> None:
        first = await embeddings.embed(TEXTS)
        again = await embeddings.embed(list(reversed(TEXTS)))
        assert first == list(reversed(again))

    async def test_similar_texts_are_closer_than_unrelated_ones(
        self, embeddings: Embeddings
    ) -> None:
        bitcoin, bitcoin_again, pasta = await embeddings.embed(TEXTS)
        assert cosine(bitcoin, bitcoin_again) > cosine(bitcoin, pasta) + 0.2

    async def test_no_texts_no_vectors(self, embeddings: Embeddings) -> None:
        assert await embeddings.embed([]) == []

    async def test_it_names_its_model(self, embeddings: Embeddings) -> None:
        assert embeddings.name in embeddings.model
