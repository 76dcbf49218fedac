"""The ``knowledge`` handler: posts and documents in, chunks with vectors and metadata in Chroma.

`index_items` is the part any source of text shares (posts, documents added through the
API or the CLI): chunk, embed, upsert under ids made of the item's key and the chunk
number, so replaying the log rewrites the same chunks instead of adding copies. A
removed document's chunks are deleted by its key.

Chunk metadata, all filterable in Chroma: ``source``, ``author``, ``created_at`` (epoch
seconds, for ranges), ``engagement`` (likes + reposts + replies + quotes), ``symbols``
(a list of base tickers, ``BTC`` for ``$BTC`` or ``BTC/USDT``, matched with Chroma's
``$contains``; left out when a post names none, since Chroma refuses empty lists), plus
``kind``, ``key``, ``chunk``, ``chunks`` and, when known, ``url`` and ``title``.

Documents (``kind`` ``document``) have no author or engagement; they add
``document_id``, ``section`` (the path of Markdown headings above the chunk, ``Setup >
Keys``), ``added_by`` (a user id; absent when an operator added it) and their
visibility: ``visibility`` ``shared``, or ``private`` with the ``owner``'s user id
(see `SearchFilters.viewer`). Posts carry no visibility: everyone may read them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

import structlog

from events.catalog.documents import DocumentAdded, DocumentFormat, DocumentRemoved
from events.catalog.posts import PostScraped
from events.envelope import RecordedEvent
from handlers.declaration import handler
from knowledge.chunking import Chunk, Chunker
from knowledge.config import KnowledgeContext
from knowledge.embeddings import Embeddings
from knowledge.errors import EmbeddingMismatchError, KnowledgeBaseUnavailableError
from knowledge.store import ChunkMetadata, KnowledgeCollection, MetadataValue

log = structlog.get_logger(__name__)

GROUP = "knowledge"
UPSERT_SLICE = 1000
"""Chunks embedded and written per call: a big document is well over Chroma's batch limit."""
SECTION_SEPARATOR = " > "


@dataclass(frozen=True, slots=True)
class KnowledgeItem:
    """A text to index: `key` is unique and stable (an event id), `metadata` is shared."""

    key: str
    text: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    format: DocumentFormat = "text"
    """Markdown is chunked section by section (see `Chunker.markdown_chunks`)."""


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


def document_item(document: DocumentAdded) -> KnowledgeItem:
    """A document as a knowledge item, keyed by its scope and id (what removal deletes by)."""
    metadata: dict[str, MetadataValue] = {
        "kind": "document",
        "document_id": document.document_id,
        "title": document.title,
        "source": document.source,
        "created_at": int(document.added_at.timestamp()),
    }
    if document.owner is None:
        metadata["visibility"] = "shared"
    else:
        metadata["visibility"] = "private"
        metadata["owner"] = str(document.owner)
    if document.added_by is not None:
        metadata["added_by"] = str(document.added_by)
    symbols = sorted({base_symbol(s) for s in document.symbols} - {""})
    if symbols:
        metadata["symbols"] = symbols
    if document.source.startswith(("http://", "https://")):
        metadata["url"] = document.source
    return KnowledgeItem(
        key=document_chunk_key(document.key),
        text=document.text,
        metadata=metadata,
        format=document.format,
    )


def document_chunk_key(key: str) -> str:
    """The `key` metadata of a document's chunks: ``doc:`` and its scope and id."""
    return f"doc:{key}"


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
        chunks = _chunks(chunker, item)
        for chunk in chunks:
            metadata: dict[str, MetadataValue] = {
                **item.metadata,
                "key": item.key,
                "chunk": chunk.number,
                "chunks": len(chunks),
            }
            if chunk.headings:
                metadata["section"] = SECTION_SEPARATOR.join(chunk.headings)
            ids.append(f"{item.key}:{chunk.number}")
            texts.append(chunk.text)
            metadatas.append(metadata)
    for start in range(0, len(ids), UPSERT_SLICE):
        end = start + UPSERT_SLICE
        vectors = await embeddings.embed(texts[start:end])
        await collection.upsert(ids[start:end], vectors, texts[start:end], metadatas[start:end])
    return len(ids)


def _chunks(chunker: Chunker, item: KnowledgeItem) -> list[Chunk]:
    if item.format == "markdown":
        return chunker.markdown_chunks(item.text)
    return chunker.chunks(item.text)


async def apply_events(
    collection: KnowledgeCollection,
    embeddings: Embeddings,
    chunker: Chunker,
    batch: Sequence[RecordedEvent],
) -> int:
    """Index the posts and documents of `batch`, and delete the documents it removes.

    In order: consecutive additions are indexed together, and a removal applies after
    everything before it, so a document added and removed in one batch ends up removed.
    Returns the chunks written.
    """
    written = 0
    for removing, run in groupby(batch, key=lambda r: isinstance(r.event.payload, DocumentRemoved)):
        if removing:
            for recorded in run:
                removed = recorded.event.payload
                assert isinstance(removed, DocumentRemoved)
                await collection.delete_where({"key": document_chunk_key(removed.key)})
        else:
            written += await index_items(collection, embeddings, chunker, [_item(r) for r in run])
    return written


def _item(recorded: RecordedEvent) -> KnowledgeItem:
    payload = recorded.event.payload
    if isinstance(payload, DocumentAdded):
        return document_item(payload)
    return post_item(recorded)


@handler(
    GROUP,
    categories=["posts", "documents"],
    types=[PostScraped, DocumentAdded, DocumentRemoved],
    context=KnowledgeContext,
)
class KnowledgeIndexer:
    """Indexes every post and document into the active knowledge collection.

    The active collection is looked up per batch, so a reindex's swap is followed without
    a restart. While it holds vectors of other embeddings than configured (the operator
    reindexed to another model and has not yet restarted with it), entries wait rather
    than be written into the wrong space or dead-lettered.
    """

    def __init__(self, context: KnowledgeContext) -> None:
        self._knowledge = context.knowledge  # opened, shared and closed by the root
        config = context.knowledge.config
        self._chunker = Chunker(config.chunk_tokens, config.chunk_overlap_tokens)
        self._opening = asyncio.Lock()

    async def handle_batch(self, batch: Sequence[RecordedEvent]) -> None:
        store, embeddings = await self._knowledge.open()
        async with self._opening:  # partitions run concurrently: create the collection once
            try:
                collection = await store.open_active(embeddings)
            except EmbeddingMismatchError as error:
                raise KnowledgeBaseUnavailableError(str(error)) from error
        written = await apply_events(collection, embeddings, self._chunker, batch)
        log.debug("knowledge indexed", entries=len(batch), chunks=written)
