"""The knowledge base's side in Chroma: generations of collections and the active one.

Collections are named ``<prefix>_kb_<embeddings>_g<N>``, and each records in its metadata
the `embedding_model` and `dimension` of its vectors. Which generation serves is written
in the metadata of one more collection, ``<prefix>_kb_pointer``, so the pointer lives
next to what it points at, embedded or on a Chroma server alike. Opening the active
collection with other embeddings than it records is refused (`EmbeddingMismatchError`):
a reindex builds a new generation from the log and moves the pointer instead.

chromadb is synchronous: every call runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

import httpx
import structlog

from knowledge.embeddings import Embeddings
from knowledge.errors import EmbeddingMismatchError, KnowledgeBaseUnavailableError

if TYPE_CHECKING:
    from chromadb.api.client import Client
    from chromadb.api.models.Collection import Collection

    from knowledge.config import KnowledgeConfig

log = structlog.get_logger(__name__)

T = TypeVar("T")

MetadataValue = str | int | float | bool | list[str]
ChunkMetadata = Mapping[str, MetadataValue]

_ACTIVE = "active"
_MODEL = "embedding_model"
_DIMENSION = "dimension"
_EMBEDDINGS = "embeddings"


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A generation: its name, and the vectors it holds."""

    name: str
    embeddings: str
    model: str
    dimension: int

    def describe(self) -> str:
        return f"{self.model} ({self.dimension} dimensions)"


@dataclass(frozen=True, slots=True)
class QueryRow:
    id: str
    text: str
    distance: float
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A chunk found near a vector, before its text and metadata are read."""

    id: str
    distance: float


class KnowledgeCollection:
    """One generation, opened: writes and nearest-neighbour queries."""

    def __init__(self, collection: Collection, info: CollectionInfo) -> None:
        self._collection = collection
        self.info = info

    async def upsert(
        self,
        ids: Sequence[str],
        vectors: Sequence[Sequence[float]],
        texts: Sequence[str],
        metadatas: Sequence[ChunkMetadata],
    ) -> None:
        """Write chunks; writing the same ids again replaces them (replays are harmless)."""
        if not ids:
            return
        await _call(
            self._collection.upsert,
            ids=list(ids),
            embeddings=[list(vector) for vector in vectors],
            documents=list(texts),
            metadatas=[dict(metadata) for metadata in metadatas],
        )

    async def query(
        self, vector: Sequence[float], k: int, where: dict[str, Any] | None
    ) -> list[QueryRow]:
        """The `k` chunks nearest to `vector` among those matching `where`.

        A `where` clause costs in proportion to the chunks it matches: Chroma lists them
        all before searching (see `knowledge.search`).
        """
        result = await _call(
            self._collection.query,
            query_embeddings=[list(vector)],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            QueryRow(id=id_, text=text or "", distance=float(distance), metadata=dict(meta or {}))
            for id_, text, meta, distance in zip(ids, documents, metadatas, distances, strict=True)
        ]

    async def nearest(self, vector: Sequence[float], n: int) -> list[Neighbour]:
        """The `n` chunks nearest to `vector`, nearest first, without their texts and
        metadata: reading those costs per chunk, finding more neighbours hardly does.

        Chroma's HNSW search keeps max(`ef_search`, `n`) candidates while it walks the
        graph, so asking for many neighbours also makes the first ones more exact.
        """
        result = await _call(
            self._collection.query,
            query_embeddings=[list(vector)],
            n_results=n,
            include=["distances"],
        )
        distances = (result["distances"] or [[]])[0]
        return [
            Neighbour(id_, float(distance))
            for id_, distance in zip(result["ids"][0], distances, strict=True)
        ]

    async def read(self, neighbours: Sequence[Neighbour]) -> list[QueryRow]:
        """`neighbours` with their texts and metadata, in their order; one deleted since
        it was found is left out."""
        if not neighbours:
            return []
        result = await _call(
            self._collection.get,
            ids=[neighbour.id for neighbour in neighbours],
            include=["documents", "metadatas"],
        )
        documents = result["documents"] or []
        metadatas = result["metadatas"] or []
        stored = {
            id_: (text, meta)
            for id_, text, meta in zip(result["ids"], documents, metadatas, strict=True)
        }
        rows = []
        for neighbour in neighbours:
            if neighbour.id in stored:
                text, meta = stored[neighbour.id]
                rows.append(
                    QueryRow(neighbour.id, text or "", neighbour.distance, dict(meta or {}))
                )
        return rows

    async def count(self) -> int:
        return await _call(self._collection.count)

    async def delete_where(self, where: dict[str, Any]) -> None:
        """Delete every chunk matching `where` (a removed document's, by its key)."""
        await _call(self._collection.delete, where=where)


class KnowledgeStore:
    """The knowledge base's collections in one Chroma, under one stream prefix."""

    def __init__(self, client: Client, prefix: str) -> None:
        self._client = client
        self.prefix = prefix
        self._pointer_name = f"{prefix}_kb_pointer"
        self._generation = re.compile(rf"^{re.escape(prefix)}_kb_([a-z0-9]+)_g([0-9]+)$")

    @classmethod
    async def connect(cls, config: KnowledgeConfig) -> KnowledgeStore:
        """Chroma at CHROMA_URL, else embedded in the data directory."""
        return cls(await asyncio.to_thread(_client, config), config.prefix)

    async def aclose(self) -> None:
        """Release the client (its HTTP connections, or its share of the embedded Chroma)."""
        await asyncio.to_thread(_close, self._client)
        # chromadb (1.5) never closes the httpx sessions of its HTTP client and of the
        # admin client inside it: their sockets would linger until garbage collection.
        for client in (self._client, getattr(self._client, "_admin_client", None)):
            session = getattr(getattr(client, "_server", None), "_session", None)
            if isinstance(session, httpx.Client):
                session.close()

    async def active(self) -> CollectionInfo | None:
        """The generation that serves, if any was made."""
        collection = await self._active_collection()
        return None if collection is None else _info(collection)

    async def open_active(self, embeddings: Embeddings) -> KnowledgeCollection:
        """The active generation, checked against `embeddings`; made when there is none.

        The first generation is made for `embeddings` and activated. A generation
        recording another model or dimension raises `EmbeddingMismatchError`.
        """
        found = await self.find_active(embeddings)
        if found is not None:
            return found
        # Always g1, so workers starting together make and activate the same collection.
        collection = await self.create_generation(embeddings, number=1)
        await self.activate(collection.info.name)
        return collection

    async def find_active(self, embeddings: Embeddings) -> KnowledgeCollection | None:
        """The active generation, checked against `embeddings`, if there is one."""
        collection = await self._active_collection()  # read per call: a reindex moves it
        if collection is None:
            return None
        info = _info(collection)
        if (info.model, info.dimension) != (embeddings.model, embeddings.dimension):
            configured = f"{embeddings.model} ({embeddings.dimension} dimensions)"
            raise EmbeddingMismatchError(info.name, info.describe(), configured)
        return KnowledgeCollection(collection, info)

    async def open(self, name: str) -> KnowledgeCollection:
        collection = await _call(self._client.get_collection, name, embedding_function=None)
        return KnowledgeCollection(collection, _info(collection))

    async def create_generation(
        self, embeddings: Embeddings, *, number: int | None = None
    ) -> KnowledgeCollection:
        """A generation for `embeddings`, numbered after every existing one unless given."""
        if number is None:
            number = max((n for _, n in await self.generations()), default=0) + 1
        name = f"{self.prefix}_kb_{embeddings.name}_g{number}"
        collection = await self._get_or_create(name, embeddings)
        log.info("knowledge collection opened", collection=name, model=embeddings.model)
        return KnowledgeCollection(collection, _info(collection))

    async def _get_or_create(self, name: str, embeddings: Embeddings) -> Collection:
        """The collection `name`, made for `embeddings` (recorded in its metadata) if new."""
        return await _call(
            self._client.get_or_create_collection,
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={
                _EMBEDDINGS: embeddings.name,
                _MODEL: embeddings.model,
                _DIMENSION: embeddings.dimension,
            },
            embedding_function=None,
        )

    async def open_companion(self, role: str, embeddings: Embeddings) -> KnowledgeCollection:
        """A collection of its own beside the generations, ``<prefix>_<role>_<embeddings>``
        (the agent's memory of users: role ``memory``), made on first use for
        `embeddings`. One recording another model or dimension is refused, like a
        generation (`EmbeddingMismatchError`)."""
        name = f"{self.prefix}_{role}_{embeddings.name}"
        collection = await self._get_or_create(name, embeddings)
        info = _info(collection)
        if (info.model, info.dimension) != (embeddings.model, embeddings.dimension):
            configured = f"{embeddings.model} ({embeddings.dimension} dimensions)"
            raise EmbeddingMismatchError(name, info.describe(), configured)
        return KnowledgeCollection(collection, info)

    async def activate(self, name: str) -> None:
        """Make generation `name` the one that serves."""
        pointer = await self._pointer()
        await _call(pointer.modify, metadata={_ACTIVE: name})
        log.info("knowledge collection activated", collection=name)

    async def drop(self, name: str) -> None:
        await _call(self._client.delete_collection, name)
        log.info("knowledge collection dropped", collection=name)

    async def generations(self) -> list[tuple[str, int]]:
        """Every generation's name and number, oldest first."""
        collections = await _call(self._client.list_collections)
        found = []
        for collection in collections:
            match = self._generation.match(collection.name)
            if match:
                found.append((collection.name, int(match.group(2))))
        return sorted(found, key=lambda item: item[1])

    async def _active_collection(self) -> Collection | None:
        pointer = await self._pointer()
        name = (pointer.metadata or {}).get(_ACTIVE)
        if not isinstance(name, str):
            return None
        return await _call(self._client.get_collection, name, embedding_function=None)

    async def _pointer(self) -> Collection:
        return await _call(
            self._client.get_or_create_collection,
            self._pointer_name,
            metadata={"role": "pointer"},
            embedding_function=None,
        )


def _info(collection: Collection) -> CollectionInfo:
    metadata = collection.metadata or {}
    return CollectionInfo(
        name=collection.name,
        embeddings=str(metadata.get(_EMBEDDINGS, "")),
        model=str(metadata.get(_MODEL, "unknown")),
        dimension=int(metadata.get(_DIMENSION, 0)),
    )


_CHROMA_SYSTEMS = threading.Lock()
"""chromadb shares one system per path (or server) across a process, and creating or
releasing a client's share of it is not thread-safe: two opened at once for one path
fail ("Could not connect to tenant"). Clients are opened and closed one at a time."""


def _close(client: Client) -> None:
    with _CHROMA_SYSTEMS:
        client.close()


def _client(config: KnowledgeConfig) -> Client:
    with _CHROMA_SYSTEMS:
        return _open_client(config)


def _open_client(config: KnowledgeConfig) -> Client:
    import chromadb  # noqa: PLC0415 - Chroma loads only in processes that use it

    options = chromadb.config.Settings(anonymized_telemetry=False)
    if config.chroma_url is None:
        path = config.chroma_path
        path.mkdir(parents=True, exist_ok=True)
        return cast("Client", chromadb.PersistentClient(path=path, settings=options))
    url = urlsplit(config.chroma_url)
    secure = url.scheme == "https"
    try:
        client = chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if secure else 8000),
            ssl=secure,
            settings=options,
        )
    except (ValueError, httpx.TransportError) as error:  # its heartbeat raises ValueError
        raise KnowledgeBaseUnavailableError(f"Chroma unreachable: {error}") from error
    return cast("Client", client)  # both factories build a Client, typed as its protocol


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except httpx.TransportError as error:
        raise KnowledgeBaseUnavailableError(
            f"Chroma unreachable: {type(error).__name__}: {error}"
        ) from error
