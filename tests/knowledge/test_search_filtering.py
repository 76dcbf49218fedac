"""Filtered search, both ways: filtering the nearest candidates in Python, and asking
Chroma again with the ``where`` clause. Both must find what Chroma's filtered query finds,
on embedded Chroma and on a Chroma server.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from impressox.configs import knowledge_config
from knowledge.hashing import HashingEmbeddings
from knowledge.search import SearchFilters, candidates_for, nearest_matching, search
from knowledge.store import KnowledgeCollection, KnowledgeStore, MetadataValue
from tests.readside import isolated_settings

CHUNKS = 400
START = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = (
    "staking", "yields", "liquidity", "upgrade", "validators", "fees", "bridge", "airdrop",
    "governance", "vote", "exchange", "listing", "whales", "funding", "rates", "treasury",
    "hack", "exploit", "patch", "roadmap",
)  # fmt: skip
TICKERS = ("BTC", "ETH", "SOL", "ARB")
QUERIES = ("staking yields", "bridge hack exploit", "governance vote treasury", "whales")

BROAD = [
    SearchFilters(symbol="BTC"),
    SearchFilters(symbol="$eth", min_engagement=300),
    SearchFilters(viewer="u1"),
    SearchFilters(viewer="u2", symbol="SOL/USDT"),
    SearchFilters(source="x", since=START + timedelta(hours=100)),
]
NARROW = [
    SearchFilters(author="user3", source="rss", symbol="ARB"),
    SearchFilters(min_engagement=985),
    SearchFilters(until=START + timedelta(hours=6), symbol="ETH"),
    SearchFilters(symbol="XRP"),
]


def _metadata(number: int, rng: random.Random) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = {
        "source": rng.choice(("x", "rss")),
        "created_at": int((START + timedelta(hours=number)).timestamp()),
        "key": f"item-{number}",
        "chunk": 0,
        "chunks": 1,
    }
    if number % 5 == 0:  # a document: no author or engagement, maybe private
        metadata["kind"] = "document"
        owner = rng.choice((None, "u1", "u2"))
        metadata["visibility"] = "shared" if owner is None else "private"
        if owner is not None:
            metadata["owner"] = owner
    else:
        metadata |= {
            "kind": "post",
            "author": f"user{rng.randrange(8)}",
            "engagement": rng.randrange(1000),
        }
    symbols = sorted(rng.sample(TICKERS, rng.choice((0, 1, 1, 2))))
    if symbols:
        metadata["symbols"] = symbols
    return metadata


@pytest.fixture(params=["embedded", "server"])
async def collection(
    request: pytest.FixtureRequest, prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[KnowledgeStore, KnowledgeCollection]]:
    """CHUNKS chunks of random words and metadata, in the active generation."""
    overrides: dict[str, Any] = {}
    if request.param == "server":
        overrides["chroma_url"] = request.getfixturevalue("chroma_url")
    store = await KnowledgeStore.connect(
        knowledge_config(isolated_settings(prefix, tmp_path, **overrides))
    )
    rng = random.Random(7)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20))) for _ in range(CHUNKS)]
    metadatas = [_metadata(number, rng) for number in range(CHUNKS)]
    opened = await store.open_active(HashingEmbeddings())
    await opened.upsert(
        [f"item-{n}:0" for n in range(CHUNKS)],
        HashingEmbeddings().embed_now(texts),
        texts,
        metadatas,
    )
    yield store, opened
    await store.aclose()


async def _filtered_query(
    collection: KnowledgeCollection, query: str, k: int, filters: SearchFilters
) -> list[str]:
    """Chroma's own filtered query: what every way of searching must agree with."""
    (vector,) = HashingEmbeddings().embed_now([query])
    return [row.id for row in await collection.query(vector, k, filters.where())]


async def test_conditions_judge_metadata_as_chroma_does(
    collection: tuple[KnowledgeStore, KnowledgeCollection],
) -> None:
    _, chunks = collection
    (vector,) = HashingEmbeddings().embed_now(["fees"])
    everything = await chunks.query(vector, CHUNKS, None)
    assert len(everything) == CHUNKS
    matched = []
    for filters in BROAD + NARROW:
        conditions = filters.conditions()
        in_python = {
            row.id for row in everything if all(c.matches(row.metadata) for c in conditions)
        }
        by_chroma = {row.id for row in await chunks.query(vector, CHUNKS, filters.where())}
        assert in_python == by_chroma, filters
        matched.append(len(by_chroma))
    assert min(matched[: len(BROAD)]) > 40  # the data tells the filters apart
    assert max(matched[len(BROAD) :]) < 10


async def test_candidates_find_the_hits_of_the_filtered_query(
    collection: tuple[KnowledgeStore, KnowledgeCollection],
) -> None:
    _, chunks = collection
    for filters in BROAD:
        for query in QUERIES:
            (vector,) = HashingEmbeddings().embed_now([query])
            found = await nearest_matching(chunks, vector, 5, filters)
            assert found.post_filtered, (filters, query)
            assert [row.id for row in found.rows] == await _filtered_query(
                chunks, query, 5, filters
            )


async def test_too_few_candidates_fall_back_to_the_filtered_query(
    collection: tuple[KnowledgeStore, KnowledgeCollection],
) -> None:
    _, chunks = collection
    for filters in NARROW:
        for query in QUERIES:
            (vector,) = HashingEmbeddings().embed_now([query])
            found = await nearest_matching(chunks, vector, 5, filters, candidates=20)
            assert not found.post_filtered, (filters, query)
            assert [row.id for row in found.rows] == await _filtered_query(
                chunks, query, 5, filters
            )


async def test_a_collection_smaller_than_the_candidates_is_filtered_whole(
    collection: tuple[KnowledgeStore, KnowledgeCollection],
) -> None:
    _, chunks = collection
    filters = NARROW[0]
    (vector,) = HashingEmbeddings().embed_now(["staking"])
    found = await nearest_matching(chunks, vector, 10, filters, candidates=CHUNKS + 1)
    assert found.post_filtered
    assert 0 < len(found.rows) < 10  # all that match: fewer than wanted
    assert [row.id for row in found.rows] == await _filtered_query(chunks, "staking", 10, filters)


async def test_search_finds_the_nearest_matching_chunks_by_cosine(
    collection: tuple[KnowledgeStore, KnowledgeCollection],
) -> None:
    """Against brute force: every chunk's similarity to the query, computed here."""
    store, chunks = collection
    embeddings = HashingEmbeddings()
    (vector,) = embeddings.embed_now(["bridge hack exploit"])
    everything = await chunks.query(vector, CHUNKS, None)
    for filters in BROAD + NARROW:
        conditions = filters.conditions()
        passing = [row for row in everything if all(c.matches(row.metadata) for c in conditions)]
        by_cosine = sorted(passing, key=lambda row: -_cosine(embeddings, row.text, vector))
        hits = await search(store, embeddings, "bridge hack exploit", k=5, filters=filters)
        assert [hit.id for hit in hits] == [row.id for row in by_cosine[:5]], filters
        for hit, row in zip(hits, by_cosine, strict=False):
            assert hit.score == pytest.approx(_cosine(embeddings, row.text, vector), abs=1e-5)


async def test_neighbours_are_read_in_their_order_without_those_deleted_since(
    collection: tuple[KnowledgeStore, KnowledgeCollection],
) -> None:
    _, chunks = collection
    (vector,) = HashingEmbeddings().embed_now(["airdrop listing"])
    neighbours = await chunks.nearest(vector, 10)
    assert [n.distance for n in neighbours] == sorted(n.distance for n in neighbours)
    gone = neighbours[3]
    await chunks.delete_where({"key": gone.id.removesuffix(":0")})
    rows = await chunks.read(neighbours)
    assert [row.id for row in rows] == [n.id for n in neighbours if n != gone]
    assert [row.distance for row in rows] == [n.distance for n in neighbours if n != gone]
    assert all(row.text and row.metadata["chunks"] == 1 for row in rows)


def test_candidates_grow_with_the_hits_wanted() -> None:
    assert candidates_for(1) == candidates_for(5) == 100
    assert candidates_for(20) == 400


def _cosine(embeddings: HashingEmbeddings, text: str, query: list[float]) -> float:
    (vector,) = embeddings.embed_now([text])
    dot = sum(a * b for a, b in zip(vector, query, strict=True))
    return dot / (math.sqrt(sum(a * a for a in vector)) * math.sqrt(sum(b * b for b in query)))
