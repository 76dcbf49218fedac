"""The knowledge handler in the real runtime, over real embedded Chroma: indexing, search
filters, replays, refusing mixed embeddings, and reindexing into another model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from events.envelope import RecordedEvent
from events.errors import DependencyUnavailableError
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.configs import knowledge_config
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunker
from knowledge.config import KnowledgeContext
from knowledge.embeddings import create_embeddings
from knowledge.errors import EmbeddingMismatchError
from knowledge.hashing import HashingEmbeddings
from knowledge.indexer import GROUP, KnowledgeIndexer
from knowledge.reindex import reindex
from knowledge.search import SearchFilters, search
from knowledge.store import KnowledgeStore
from tests.handlers.support import FAST, drain, running
from tests.knowledge.support import API_KEY, START, EmbeddingsServer, embeddings_server, post
from tests.polling import wait_until

POSTS = [
    post("Bitcoin ETF inflows hit a record", hours=0, likes=500, symbols=("BTC/USDT",)),
    post("$ETH gas fees fall after the upgrade", author="bob", hours=1, likes=20,
         cashtags=("$ETH",)),
    post("Bitcoin miners sell as fees drop", author="bob", hours=2, likes=5, cashtags=("$BTC",)),
    post("Solana outage: validators restart", author="carol", source="rss", hours=3, likes=80,
         symbols=("SOL",)),
    post("A quiet day on every market", author="alice", hours=4),
]  # fmt: skip


@pytest.fixture
async def openai_server() -> AsyncIterator[EmbeddingsServer]:
    async with embeddings_server() as server:
        yield server


def with_openai(settings: Settings, server: EmbeddingsServer) -> Settings:
    return settings.model_copy(
        update={
            "embeddings": "openai",
            "openai_base_url": server.url,
            "openai_api_key": SecretStr(API_KEY),
            "openai_embedding_dimensions": 64,
        }
    )


@pytest.fixture
async def knowledge(settings: Settings) -> AsyncIterator[KnowledgeStore]:
    store = await KnowledgeStore.connect(knowledge_config(settings))
    yield store
    await store.aclose()


async def indexed(store: EventStore, settings: Settings, knowledge: KnowledgeStore) -> None:
    """Append POSTS and run the knowledge worker until every post is in Chroma."""
    await store.append_batch("posts", POSTS)
    base = KnowledgeBase(knowledge_config(settings))
    worker = Worker(HANDLERS.get(GROUP), store, FAST, KnowledgeContext(store, base))
    try:
        await drain(worker)
    finally:
        await base.aclose()
    active = await knowledge.active()
    assert active is not None
    assert await (await knowledge.open(active.name)).count() == 5


async def texts(knowledge: KnowledgeStore, query: str, filters: SearchFilters) -> set[str]:
    hits = await search(knowledge, HashingEmbeddings(), query, k=10, filters=filters)
    return {hit.text for hit in hits}


async def test_posts_are_indexed_with_their_metadata(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore, prefix: str
) -> None:
    await indexed(store, settings, knowledge)
    info = await knowledge.active()
    assert info is not None
    assert info.name == f"{prefix}_kb_hashing_g1"
    assert (info.model, info.dimension) == ("hashing/v1-384", 384)

    best, second = await search(knowledge, HashingEmbeddings(), "bitcoin ETF inflows record", k=2)
    assert best.text == "Bitcoin ETF inflows hit a record"
    assert 1.0 >= best.score > second.score
    assert best.id == f"{POSTS[0].event_id}:0"
    assert best.metadata | {"key": ""} == {
        "kind": "post",
        "source": "x",
        "author": "alice",
        "created_at": int(START.timestamp()),
        "engagement": 500,
        "symbols": ["BTC"],
        "key": "",
        "chunk": 0,
        "chunks": 1,
    }


async def test_search_filters(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    await indexed(store, settings, knowledge)
    query = "bitcoin fees"
    assert await texts(knowledge, query, SearchFilters(symbol="btc")) == {
        "Bitcoin ETF inflows hit a record",
        "Bitcoin miners sell as fees drop",
    }
    assert await texts(knowledge, query, SearchFilters(symbol="$ETH")) == {
        "$ETH gas fees fall after the upgrade"
    }
    assert await texts(knowledge, query, SearchFilters(author="bob", symbol="BTC/USDT")) == {
        "Bitcoin miners sell as fees drop"
    }
    assert await texts(knowledge, query, SearchFilters(source="rss")) == {
        "Solana outage: validators restart"
    }
    window = SearchFilters(since=START + timedelta(hours=1), until=START + timedelta(hours=3))
    assert await texts(knowledge, query, window) == {
        "$ETH gas fees fall after the upgrade",
        "Bitcoin miners sell as fees drop",
        "Solana outage: validators restart",
    }
    assert await texts(knowledge, query, SearchFilters(min_engagement=80)) == {
        "Bitcoin ETF inflows hit a record",
        "Solana outage: validators restart",
    }
    assert await texts(knowledge, query, SearchFilters(symbol="XRP")) == set()
    assert len(await texts(knowledge, query, SearchFilters())) == 5


async def test_search_before_anything_is_indexed_finds_nothing(
    knowledge: KnowledgeStore,
) -> None:
    assert await search(knowledge, HashingEmbeddings(), "bitcoin") == []


async def test_replaying_posts_rewrites_the_same_chunks(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    await indexed(store, settings, knowledge)
    recorded = [r async for r in store.read_category("posts")]
    context = KnowledgeContext(store, KnowledgeBase(knowledge_config(settings)))
    indexer = KnowledgeIndexer(context)
    await indexer.handle_batch(recorded)
    await indexer.handle_batch(recorded[:2])
    await context.knowledge.aclose()
    active = await knowledge.active()
    assert active is not None
    assert await (await knowledge.open(active.name)).count() == 5


async def test_a_long_post_is_indexed_as_overlapping_chunks(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    long_post = post(" ".join(f"word{i}" for i in range(600)), author="dave")
    await store.append("posts", long_post)
    (recorded,) = [r async for r in store.read_category("posts")]
    context = KnowledgeContext(
        store,
        KnowledgeBase(
            knowledge_config(
                settings.model_copy(update={"chunk_tokens": 256, "chunk_overlap_tokens": 32})
            )
        ),
    )
    indexer = KnowledgeIndexer(context)
    await indexer.handle_batch([recorded])
    await context.knowledge.aclose()
    hits = await search(knowledge, HashingEmbeddings(), "word300", k=10)
    assert {hit.id for hit in hits} == {f"{long_post.event_id}:{n}" for n in range(3)}
    assert all(hit.metadata["chunks"] == 3 for hit in hits)


async def test_other_embeddings_than_the_collection_holds_are_refused(
    store: EventStore,
    settings: Settings,
    knowledge: KnowledgeStore,
    openai_server: EmbeddingsServer,
    prefix: str,
) -> None:
    await indexed(store, settings, knowledge)
    openai = create_embeddings("openai", knowledge_config(with_openai(settings, openai_server)))
    try:
        with pytest.raises(EmbeddingMismatchError) as refused:
            await search(knowledge, openai, "bitcoin")
    finally:
        await openai.aclose()
    message = str(refused.value)
    assert f"{prefix}_kb_hashing_g1" in message
    assert "hashing/v1-384 (384 dimensions)" in message
    assert "openai/text-embedding-3-small (64 dimensions)" in message
    assert "impressox knowledge reindex" in message

    # The handler makes its entries wait instead of writing wrong vectors or dead-lettering.
    context = KnowledgeContext(
        store, KnowledgeBase(knowledge_config(with_openai(settings, openai_server)))
    )
    indexer = KnowledgeIndexer(context)
    batch: list[RecordedEvent] = [r async for r in store.read_category("posts")]
    try:
        with pytest.raises(DependencyUnavailableError, match="holds vectors of hashing/v1-384"):
            await indexer.handle_batch(batch)
    finally:
        await context.knowledge.aclose()
    assert openai_server.requests == []


async def test_reindex_builds_a_new_collection_and_swaps_it_in(
    store: EventStore,
    settings: Settings,
    knowledge: KnowledgeStore,
    openai_server: EmbeddingsServer,
    prefix: str,
) -> None:
    await indexed(store, settings, knowledge)
    openai_settings = with_openai(settings, openai_server)
    openai = create_embeddings("openai", knowledge_config(openai_settings))
    done: list[int] = []
    try:
        result = await reindex(store, knowledge, openai, Chunker(256, 32), progress=done.append)
        assert (result.collection, result.previous, result.posts) == (
            f"{prefix}_kb_openai_g2",
            f"{prefix}_kb_hashing_g1",
            5,
        )
        assert sum(done) == 5
        assert await knowledge.generations() == [(f"{prefix}_kb_openai_g2", 2)]
        active = await knowledge.active()
        assert active is not None
        assert (active.name, active.model, active.dimension) == (
            f"{prefix}_kb_openai_g2",
            "openai/text-embedding-3-small",
            64,
        )
        hits = await search(
            knowledge, openai, "solana validators", k=1, filters=SearchFilters(source="rss")
        )
        assert [hit.text for hit in hits] == ["Solana outage: validators restart"]
        with pytest.raises(EmbeddingMismatchError):
            await search(knowledge, HashingEmbeddings(), "solana")

        # A worker restarted with the new embeddings indexes new posts into the new collection.
        await store.append("posts", post("Solana validators back online", author="carol", hours=5))
        base = KnowledgeBase(knowledge_config(openai_settings))
        worker = Worker(HANDLERS.get(GROUP), store, FAST, KnowledgeContext(store, base))

        async def six() -> bool:
            return await (await knowledge.open(f"{prefix}_kb_openai_g2")).count() == 6

        try:
            async with running(worker):
                await wait_until(six)
        finally:
            await base.aclose()
    finally:
        await openai.aclose()


async def test_stores_opened_and_closed_at_once_on_one_path_all_work(settings: Settings) -> None:
    """chromadb's per-path system is shared process-wide: one process's parts (here, ten
    at once) each opening their own store must not fail one another."""
    config = knowledge_config(settings)
    for _ in range(3):
        stores = await asyncio.gather(*(KnowledgeStore.connect(config) for _ in range(10)))
        assert all([await store.active() is None for store in stores])
        await asyncio.gather(*(store.aclose() for store in stores))
