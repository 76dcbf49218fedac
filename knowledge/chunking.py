"""Cutting text into chunks of at most N tokens, consecutive chunks overlapping.

Prompts get chunks, never whole documents. Tokens are the regex ``\\w+|[^\\w\\s]``: runs
of word characters, and each other non-space character on its own. That is close to what
embedding models count (a sub-word tokenizer yields a few more) and needs no model. A
chunk's text is the original text from its first token to its last, whitespace and all.

Markdown is first cut into sections at its ATX headings (``#`` to ``######``, outside
fenced code), each chunked on its own, so a chunk never straddles two sections and
carries the path of headings above it (``Setup > Keys``) for its metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from events.errors import ConfigurationError

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True, slots=True)
class Chunk:
    number: int
    text: str
    start_token: int
    tokens: int
    headings: tuple[str, ...] = ()
    """The path of Markdown headings the chunk is under, outermost first."""


@dataclass(frozen=True, slots=True)
class Section:
    """A run of Markdown under one heading (the heading line included)."""

    headings: tuple[str, ...]
    text: str


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
        return self._chunks(text, (), first_number=0, first_token=0)

    def markdown_chunks(self, text: str) -> list[Chunk]:
        """The chunks of Markdown `text`, section by section, numbered through."""
        found: list[Chunk] = []
        tokens = 0
        for section in markdown_sections(text):
            found += self._chunks(
                section.text, section.headings, first_number=len(found), first_token=tokens
            )
            tokens += count_tokens(section.text)
        return found

    def _chunks(
        self, text: str, headings: tuple[str, ...], *, first_number: int, first_token: int
    ) -> list[Chunk]:
        spans = [match.span() for match in _TOKEN.finditer(text)]
        step = self.chunk_tokens - self.overlap_tokens
        found: list[Chunk] = []
        start = 0
        while start < len(spans):
            end = min(start + self.chunk_tokens, len(spans))
            found.append(
                Chunk(
                    number=first_number + len(found),
                    text=text[spans[start][0] : spans[end - 1][1]],
                    start_token=first_token + start,
                    tokens=end - start,
                    headings=headings,
                )
            )
            if end == len(spans):
                break
            start += step
        return found


def markdown_sections(text: str) -> list[Section]:
    """`text` cut before each ATX heading; `#` lines inside fenced code are not headings.

    Each section keeps its heading line, so its first chunk says what it is about. Text
    before the first heading is a section with no headings.
    """
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    fence: str | None = None

    def close() -> None:
        if "".join(lines).strip():
            sections.append(Section(tuple(title for _, title in path), "".join(lines)))
        lines.clear()

    for line in text.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if opening is not None:
            marker = opening.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        heading = _HEADING.match(line.rstrip("\r\n")) if fence is None else None
        if heading is not None:
            close()
            level = len(heading.group(1))
            path[:] = [(depth, title) for depth, title in path if depth < level]
            path.append((level, (heading.group(2) or "").strip()))
        lines.append(line)
    close()
    return sections


def count_tokens(text: str) -> int:
    """Tokens in `text`, as the chunker counts them."""
    return sum(1 for _ in _TOKEN.finditer(text))
