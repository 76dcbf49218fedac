"""The knowledge base on a Chroma server (CHROMA_URL) rather than embedded."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.store import EventStore
from impressox.configs import knowledge_config
from impressox.embedded.process import free_port
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeContext
from knowledge.errors import KnowledgeBaseUnavailableError
from knowledge.hashing import HashingEmbeddings
from knowledge.indexer import KnowledgeIndexer
from knowledge.search import SearchFilters, search
from knowledge.store import KnowledgeStore
from tests.knowledge.support import post
from tests.readside import isolated_settings


async def test_posts_are_indexed_and_found_on_a_chroma_server(
    store: EventStore, redis_url: str, chroma_url: str, prefix: str, tmp_path: Path
) -> None:
    settings = isolated_settings(prefix, tmp_path, redis_url=redis_url, chroma_url=chroma_url)
    await store.append_batch(
        "posts",
        [
            post("Bitcoin miners sell as fees drop", author="bob", cashtags=("$BTC",)),
            post("Solana validators restart", author="carol", symbols=("SOL",)),
        ],
    )
    context = KnowledgeContext(store, KnowledgeBase(knowledge_config(settings)))
    indexer = KnowledgeIndexer(context)
    await indexer.handle_batch([r async for r in store.read_category("posts")])
    await context.knowledge.aclose()

    knowledge = await KnowledgeStore.connect(knowledge_config(settings))
    try:
        hits = await search(
            knowledge, HashingEmbeddings(), "miners", filters=SearchFilters(symbol="BTC")
        )
    finally:
        await knowledge.aclose()
    assert [hit.text for hit in hits] == ["Bitcoin miners sell as fees drop"]
    assert not (tmp_path / "chroma").exists()  # nothing embedded in the data directory


async def test_an_unreachable_chroma_server_makes_entries_wait(
    store: EventStore, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    settings = isolated_settings(
        prefix, tmp_path, redis_url=redis_url, chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    await store.append("posts", post("Bitcoin miners sell as fees drop"))
    context = KnowledgeContext(store, KnowledgeBase(knowledge_config(settings)))
    indexer = KnowledgeIndexer(context)
    try:
        with pytest.raises(KnowledgeBaseUnavailableError, match="Chroma unreachable"):
            await indexer.handle_batch([r async for r in store.read_category("posts")])
    finally:
        await context.knowledge.aclose()
