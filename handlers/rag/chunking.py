"""Cutting text into chunks of at most N tokens, consecutive chunks overlapping.

Prompts get chunks, never whole documents. Tokens are the regex ``\\w+|[^\\w\\s]``: runs
of word characters, and each other non-space character on its own. That is close to what
embedding models count (a sub-word tokenizer yields a few more) and needs no model. A
chunk's text is the original text from its first token to its last, whitespace and all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from events.errors import ConfigurationError

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Chunk:
    number: int
    text: str
    start_token: int
    tokens: int


@dataclass(frozen=True, slots=True)
class Chunker:
    """Chunks of `chunk_tokens` tokens, each sharing `overlap_tokens` with the previous."""

    chunk_tokens: int
    overlap_tokens: int

    def __post_init__(self) -> None:
        if self.chunk_tokens < 1:
            raise ConfigurationError("invalid setting chunk_tokens: must be at least 1")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ConfigurationError(
                "invalid setting chunk_overlap_tokens: must be at least 0 and less than"
                f" chunk_tokens ({self.chunk_tokens}), not {self.overlap_tokens}"
            )

    def chunks(self, text: str) -> list[Chunk]:
        """The chunks of `text`; none when it holds no token."""
        spans = [match.span() for match in _TOKEN.finditer(text)]
        step = self.chunk_tokens - self.overlap_tokens
        found: list[Chunk] = []
        start = 0
        while start < len(spans):
            end = min(start + self.chunk_tokens, len(spans))
            found.append(
                Chunk(
                    number=len(found),
                    text=text[spans[start][0] : spans[end - 1][1]],
                    start_token=start,
                    tokens=end - start,
                )
            )
            if end == len(spans):
                break
            start += step
        return found


def count_tokens(text: str) -> int:
    """Tokens in `text`, as the chunker counts them."""
    return sum(1 for _ in _TOKEN.finditer(text))
