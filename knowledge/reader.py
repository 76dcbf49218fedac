"""The knowledge base for a process that only reads it (the API, the agent).

Chroma and the embeddings are opened on first use, not at startup: a process that never
searches never loads Chroma, and it starts even while Chroma is down. Beside the
knowledge base, the agent reads the index of what users told it (`memory_index`),
opened the same way.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from knowledge.embeddings import Embeddings, create_embeddings
from knowledge.memory_index import MemoryIndex
from knowledge.search import SearchFilters, SearchHit, search
from knowledge.store import KnowledgeStore

if TYPE_CHECKING:
    from knowledge.config import KnowledgeConfig


class KnowledgeReader:
    """Searches with the configured embeddings, connecting once, on first use."""

    def __init__(self, config: KnowledgeConfig) -> None:
        self._config = config
        self._opened: tuple[KnowledgeStore, Embeddings] | None = None
        self._memory: MemoryIndex | None = None
        self._opening = asyncio.Lock()

    async def search(
        self, query: str, *, k: int, filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        """See `knowledge.search.search`."""
        store, embeddings = await self._open()
        return await search(store, embeddings, query, k=k, filters=filters)

    async def memory_index(self) -> MemoryIndex:
        """The memory collection, opened on first use."""
        if self._memory is None:
            store, embeddings = await self._open()
            self._memory = await MemoryIndex.open(store, embeddings)
        return self._memory

    async def _open(self) -> tuple[KnowledgeStore, Embeddings]:
        async with self._opening:
            if self._opened is None:
                store = await KnowledgeStore.connect(self._config)
                try:
                    embeddings = create_embeddings(self._config.embeddings, self._config)
                except BaseException:
                    await store.aclose()
                    raise
                self._opened = (store, embeddings)
            return self._opened

    async def aclose(self) -> None:
        if self._opened is not None:
            store, embeddings = self._opened
            self._opened = self._memory = None
            await store.aclose()
            await embeddings.aclose()
