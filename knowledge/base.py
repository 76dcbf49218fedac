"""The knowledge base of one process: Chroma and the embeddings, opened once.

The composition root builds one `KnowledgeBase` per process and hands it to everything
there that searches or indexes (the API, the agent, the `knowledge` and `memory_index`
handlers), then closes it: so a worker running both indexers holds one Chroma client and
one embedding model (MiniLM is loaded once, not per handler), and nothing below the root
opens its own.

Chroma is connected on first use, not at startup: a process that never searches never
loads Chroma, and it starts even while Chroma is down. The embeddings are built on first
use too; the root asks for them up front where a wrong setting should stop a worker at
startup rather than fail its entries (`embeddings`). Beside the knowledge base, the agent
reads the index of what users told it (`memory_index`), opened the same way.
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


class KnowledgeBase:
    """Chroma and the configured embeddings, each opened once, on first use."""

    def __init__(self, config: KnowledgeConfig) -> None:
        self.config = config
        self._store: KnowledgeStore | None = None
        self._embeddings: Embeddings | None = None
        self._memory: MemoryIndex | None = None
        self._opening = asyncio.Lock()

    def embeddings(self) -> Embeddings:
        """The configured embeddings, built on the first call (a wrong setting raises
        `ConfigurationError` here)."""
        if self._embeddings is None:
            self._embeddings = create_embeddings(self.config.embeddings, self.config)
        return self._embeddings

    async def open(self) -> tuple[KnowledgeStore, Embeddings]:
        """Chroma (connected on the first call) and the embeddings."""
        embeddings = self.embeddings()
        async with self._opening:  # partitions and requests run concurrently: connect once
            if self._store is None:
                self._store = await KnowledgeStore.connect(self.config)
            return self._store, embeddings

    async def search(
        self, query: str, *, k: int, filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        """See `knowledge.search.search`."""
        store, embeddings = await self.open()
        return await search(store, embeddings, query, k=k, filters=filters)

    async def memory_index(self) -> MemoryIndex:
        """The memory collection, opened on first use."""
        store, embeddings = await self.open()
        async with self._opening:
            if self._memory is None:
                self._memory = await MemoryIndex.open(store, embeddings)
            return self._memory

    async def aclose(self) -> None:
        """Close what was opened (the root's to call, never a handler's)."""
        store, embeddings = self._store, self._embeddings
        self._store = self._embeddings = self._memory = None
        if store is not None:
            await store.aclose()
        if embeddings is not None:
            await embeddings.aclose()
