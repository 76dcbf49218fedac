"""The ``knowledge`` handler: posts in, chunks with vectors and metadata in Chroma.

`index_items` is the part any source of text shares (posts now, documents added through
the API later): chunk, embed, upsert under ids made of the item's key and the chunk
number, so replaying the log rewrites the same chunks instead of adding copies.

Chunk metadata, all filterable in Chroma: ``source``, ``author``, ``created_at`` (epoch
seconds, for ranges), ``engagement`` (likes + reposts + replies + quotes), ``symbols``
(a list of base tickers, ``BTC`` for ``$BTC`` or ``BTC/USDT``, matched with Chroma's
``$contains``; left out when a post names none, since Chroma refuses empty lists), plus
``kind``, ``key``, ``chunk``, ``chunks`` and, when known, ``url`` and ``title``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from events.catalog.posts import PostScraped
from events.envelope import RecordedEvent
from events.errors import ConfigurationError
from handlers.declaration import HandlerContext, handler
from handlers.rag.chunking import Chunker
from handlers.rag.embeddings import Embeddings, create_embeddings
from handlers.rag.errors import EmbeddingMismatchError, KnowledgeBaseUnavailableError
from handlers.rag.store import ChunkMetadata, KnowledgeCollection, KnowledgeStore, MetadataValue

log = structlog.get_logger(__name__)

GROUP = "knowledge"


@dataclass(frozen=True, slots=True)
class KnowledgeItem:
    """A text to index: `key` is unique and stable (an event id), `metadata` is shared."""

    key: str
    text: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


def base_symbol(symbol: str) -> str:
    """``$btc``, ``BTC/USDT`` and ``BTC`` all mean ``BTC``: how symbols are stored and matched."""
    return symbol.strip().lstrip("$").split("/")[0].upper()


def post_item(recorded: RecordedEvent) -> KnowledgeItem:
    """A post as a knowledge item, keyed by its event id."""
    post = recorded.event.payload
    if not isinstance(post, PostScraped):
        raise TypeError(f"not a post: {recorded.event.type}")
    metadata: dict[str, MetadataValue] = {
        "kind": "post",
        "source": post.source,
        "author": post.author,
        "created_at": int(post.created_at.timestamp()),
        "engagement": post.engagement.total,
    }
    symbols = sorted({base_symbol(s) for s in (*post.symbols, *post.cashtags)} - {""})
    if symbols:
        metadata["symbols"] = symbols
    if post.url:
        metadata["url"] = post.url
    return KnowledgeItem(key=str(recorded.event.event_id), text=post.text, metadata=metadata)


async def index_items(
    collection: KnowledgeCollection,
    embeddings: Embeddings,
    chunker: Chunker,
    items: Sequence[KnowledgeItem],
) -> int:
    """Chunk, embed and upsert `items` into `collection`; returns the chunks written."""
    ids: list[str] = []
    texts: list[str] = []
    metadatas: list[ChunkMetadata] = []
    for item in items:
        chunks = chunker.chunks(item.text)
        for chunk in chunks:
            ids.append(f"{item.key}:{chunk.number}")
            texts.append(chunk.text)
            metadatas.append(
                {**item.metadata, "key": item.key, "chunk": chunk.number, "chunks": len(chunks)}
            )
    if not ids:
        return 0
    vectors = await embeddings.embed(texts)
    await collection.upsert(ids, vectors, texts, metadatas)
    return len(ids)


@handler(GROUP, categories=["posts"], types=[PostScraped])
class KnowledgeIndexer:
    """Indexes every post into the active knowledge collection.

    The active collection is looked up per batch, so a reindex's swap is followed without
    a restart. While it holds vectors of other embeddings than configured (the operator
    reindexed to another model and has not yet restarted with it), entries wait rather
    than be written into the wrong space or dead-lettered.
    """

    def __init__(self, context: HandlerContext) -> None:
        if context.settings is None:
            raise ConfigurationError("the knowledge handler needs settings")
        self._settings = context.settings
        self._embeddings = create_embeddings(self._settings.embeddings, self._settings)
        self._chunker = Chunker(self._settings.chunk_tokens, self._settings.chunk_overlap_tokens)
        self._store: KnowledgeStore | None = None
        self._opening = asyncio.Lock()

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
        async with self._opening:  # partitions run concurrently: connect once
            if self._store is None:
                self._store = await KnowledgeStore.connect(self._settings)
            try:
                collection = await self._store.open_active(self._embeddings)
            except EmbeddingMismatchError as error:
                raise KnowledgeBaseUnavailableError(str(error)) from error
        written = await index_items(
            collection, self._embeddings, self._chunker, [post_item(r) for r in batch]
        )
        log.debug("posts indexed", posts=len(batch), chunks=written)

    async def aclose(self) -> None:
        await self._embeddings.aclose()
        if self._store is not None:
            await self._store.aclose()
