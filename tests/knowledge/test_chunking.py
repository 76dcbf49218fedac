"""Chunking: bounded chunks that overlap, cover the whole text and keep its wording."""

from __future__ import annotations

import itertools

import pytest

from events.errors import ConfigurationError
from knowledge.chunking import Chunker, count_tokens


def test_a_short_post_is_one_chunk_with_its_text() -> None:
    text = "  $BTC breaks 100k, funding flips positive!  "
    (chunk,) = Chunker(256, 32).chunks(text)
    assert chunk.text == "$BTC breaks 100k, funding flips positive!"
    assert chunk.tokens == count_tokens(text) == 9


def test_a_long_document_is_never_one_chunk() -> None:
    words = [f"w{i}" for i in range(1000)]
    chunks = Chunker(100, 20).chunks(" ".join(words))
    assert len(chunks) > 1
    assert all(chunk.tokens <= 100 for chunk in chunks)
    assert [chunk.number for chunk in chunks] == list(range(len(chunks)))


def test_consecutive_chunks_share_the_overlap_and_cover_everything() -> None:
    words = [f"w{i}" for i in range(250)]
    chunks = Chunker(100, 20).chunks(" ".join(words))
    pieces = [chunk.text.split() for chunk in chunks]
    for previous, current in itertools.pairwise(pieces):
        assert previous[-20:] == current[:20]
    assert pieces[0][0] == "w0"
    assert pieces[-1][-1] == "w249"
    assert [chunk.start_token for chunk in chunks] == [0, 80, 160]


def test_punctuation_counts_as_tokens() -> None:
    chunks = Chunker(4, 0).chunks("a, b. c! d")
    assert [chunk.text for chunk in chunks] == ["a, b.", "c! d"]


def test_text_without_tokens_has_no_chunks() -> None:
    assert Chunker(10, 2).chunks("   \n ") == []


@pytest.mark.parametrize(("size", "overlap"), [(10, 10), (10, 11), (10, -1), (0, 0)])
def test_an_overlap_not_below_the_chunk_size_is_refused(size: int, overlap: int) -> None:
    with pytest.raises(ConfigurationError, match="chunk"):
        Chunker(size, overlap)
