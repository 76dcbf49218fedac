"""Feature-hashing embeddings: no model, no download, the same vector on every machine.

Each text is split into lowercase word unigrams, word bigrams and character trigrams of
each word (so ``bitcoin`` and ``bitcoins`` share most features). Every feature is hashed
with CRC-32 (stable across processes, unlike `hash`) to a bucket and a sign; the signed
counts are L2-normalised. Texts sharing words and word pieces land close by cosine; it
captures no synonyms, which is what the MiniLM and OpenAI embeddings are for.
"""

from __future__ import annotations

import asyncio
import math
import re
import zlib
from collections.abc import Iterator, Sequence

_WORD = re.compile(r"\w+", re.UNICODE)
_TRIGRAM_WEIGHT = 0.5
"""Word pieces count half a word: they say a text is about the same thing, less surely."""
_INLINE_TEXTS = 64
"""Batches up to this size are hashed on the event loop (well under a millisecond each)."""


class HashingEmbeddings:
    """Signed feature hashing of words, word pairs and character trigrams."""

    name = "hashing"

    def __init__(self, dimension: int = 384) -> None:
        self._dimension = dimension

    @property
    def model(self) -> str:
        return f"hashing/v1-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if len(texts) <= _INLINE_TEXTS:
            return self.embed_now(texts)
        return await asyncio.to_thread(self.embed_now, texts)

    def embed_now(self, texts: Sequence[str]) -> list[list[float]]:
        """The vectors, computed in the calling thread."""
        return [self._vector(text) for text in texts]

    async def aclose(self) -> None:
        """Nothing to release."""

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimension
        for feature, weight in _features(text):
            code = zlib.crc32(feature.encode())
            sign = 1.0 if code & 0x8000_0000 else -1.0
            vector[code % self._dimension] += sign * weight
        norm = math.sqrt(sum(value * value for value in vector))
        if norm == 0.0:
            return vector
        return [value / norm for value in vector]


def _features(text: str) -> Iterator[tuple[str, float]]:
    words = [word.lower() for word in _WORD.findall(text)]
    previous = None
    for word in words:
        yield "w:" + word, 1.0
        if previous is not None:
            yield f"b:{previous} {word}", 1.0
        previous = word
        padded = f"<{word}>"
        for start in range(len(padded) - 2):
            yield "c:" + padded[start : start + 3], _TRIGRAM_WEIGHT
