"""Documents in the knowledge base, over real Redis and embedded Chroma: added once,
chunked under their headings, private or shared in search, removed, and reindexed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from events.catalog.documents import DocumentAdded
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.configs import knowledge_config
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunker
from knowledge.config import KnowledgeContext
from knowledge.documents import DocumentLibrary
from knowledge.errors import DocumentConflictError, DocumentNotFoundError
from knowledge.hashing import HashingEmbeddings
from knowledge.indexer import GROUP, KnowledgeIndexer
from knowledge.reindex import reindex
from knowledge.search import SearchFilters, SearchHit, search
from knowledge.store import KnowledgeStore
from tests.handlers.support import FAST, drain
from tests.knowledge.support import post

ALICE = UUID("00000000-0000-4000-8000-00000000a11c")
BOB = UUID("00000000-0000-4000-8000-000000000b0b")

GUIDE = """Staking guide for operators.

# Ethereum
Validators stake 32 ETH each.

## Withdrawals
Withdrawals of staked ether settle in about a day.

```sh
# restart the validator client
```

# Solana
Delegators stake SOL with a validator.
"""


def document(
    document_id: str,
    text: str,
    *,
    owner: UUID | None = None,
    title: str = "Notes",
    symbols: tuple[str, ...] = (),
    format_: str = "markdown",
) -> DocumentAdded:
    return DocumentAdded.model_validate(
        {
            "document_id": document_id,
            "title": title,
            "source": "manual",
            "format": format_,
            "text": text,
            "symbols": symbols,
            "owner": owner,
            "added_by": owner,
            "added_at": datetime(2026, 3, 2, tzinfo=UTC),
        }
    )


@pytest.fixture
async def knowledge(settings: Settings) -> AsyncIterator[KnowledgeStore]:
    store = await KnowledgeStore.connect(knowledge_config(settings))
    yield store
    await store.aclose()


async def index_log(store: EventStore, settings: Settings) -> None:
    """Run the knowledge handler over every post and document event, in log order."""
    batch = [r async for r in store.read_category("posts")]
    batch += [r async for r in store.read_category("documents")]
    context = KnowledgeContext(store, KnowledgeBase(knowledge_config(settings)))
    indexer = KnowledgeIndexer(context)
    try:
        await indexer.handle_batch(batch)
    finally:
        await context.knowledge.aclose()


async def find(
    knowledge: KnowledgeStore, query: str, *, viewer: str | None = None, k: int = 10
) -> list[SearchHit]:
    return await search(
        knowledge, HashingEmbeddings(), query, k=k, filters=SearchFilters(viewer=viewer)
    )


async def test_adding_is_idempotent_by_id_and_refuses_other_content(store: EventStore) -> None:
    library = DocumentLibrary(store)
    first = await library.add(document("guide", GUIDE))
    again = await library.add(document("guide", GUIDE).model_copy(update={"added_by": BOB}))
    assert (again.event_id, again.position, again.duplicate) == (
        first.event_id,
        first.position,
        True,
    )
    assert not first.duplicate
    with pytest.raises(DocumentConflictError, match="'guide' exists with other content"):
        await library.add(document("guide", GUIDE + "\nMore."))
    # Another scope holds its own "guide".
    private = await library.add(document("guide", "My own guide.", owner=ALICE))
    assert not private.duplicate
    assert [r.event.type async for r in store.read_category("documents")] == [
        "document.added",
        "document.added",
    ]


async def test_removal_needs_a_present_document_and_allows_adding_again(
    store: EventStore,
) -> None:
    library = DocumentLibrary(store)
    with pytest.raises(DocumentNotFoundError):
        await library.remove(None, "guide", removed_by=None)
    added = await library.add(document("guide", GUIDE))
    removed = await library.remove(None, "guide", removed_by=None)
    with pytest.raises(DocumentNotFoundError):
        await library.remove(None, "guide", removed_by=None)
    with pytest.raises(DocumentNotFoundError):  # Alice's scope never had it
        await library.remove(ALICE, "guide", removed_by=ALICE)
    again = await library.add(document("guide", "A new version."))
    assert len({added.event_id, removed.event_id, again.event_id}) == 3
    assert not again.duplicate
    types = [r.event.type async for r in store.read_category("documents")]
    assert types == ["document.added", "document.removed", "document.added"]


async def test_markdown_is_indexed_in_chunks_under_its_headings(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    await DocumentLibrary(store).add(document("guide", GUIDE, symbols=("ETH", "SOL/USDT")))
    await index_log(store, settings)
    hits = await find(knowledge, "staking")
    by_section = {hit.metadata.get("section"): hit for hit in hits}
    assert set(by_section) == {None, "Ethereum", "Ethereum > Withdrawals", "Solana"}
    withdrawals = by_section["Ethereum > Withdrawals"]
    assert withdrawals.text.startswith("## Withdrawals\nWithdrawals of staked ether")
    assert "# restart the validator client" in withdrawals.text  # code, not a heading
    assert withdrawals.id == "doc:shared:guide:2"
    assert withdrawals.metadata == {
        "kind": "document",
        "document_id": "guide",
        "title": "Notes",
        "source": "manual",
        "created_at": int(datetime(2026, 3, 2, tzinfo=UTC).timestamp()),
        "visibility": "shared",
        "symbols": ["ETH", "SOL"],
        "key": "doc:shared:guide",
        "chunk": 2,
        "chunks": 4,
        "section": "Ethereum > Withdrawals",
    }


async def test_a_long_section_is_cut_into_overlapping_chunks_keeping_its_heading(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    words = " ".join(f"word{i}" for i in range(600))
    await DocumentLibrary(store).add(document("long", f"# Intro\nhello\n# Body\n{words}\n"))
    await index_log(
        store, settings.model_copy(update={"chunk_tokens": 256, "chunk_overlap_tokens": 32})
    )
    hits = await find(knowledge, "word300 word10 word590 hello")
    assert sorted((h.metadata["chunk"], h.metadata.get("section")) for h in hits) == [
        (0, "Intro"),
        (1, "Body"),
        (2, "Body"),
        (3, "Body"),
    ]
    assert all(len(hit.text.split()) <= 256 for hit in hits)


async def test_private_documents_are_found_only_by_their_owner(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    library = DocumentLibrary(store)
    await library.add(document("shared", "Ether staking yields, for everyone.", format_="text"))
    await library.add(document("mine", "Ether staking: my own plan.", owner=ALICE))
    await library.add(document("mine", "Ether staking: Bob's secret plan.", owner=BOB))
    await store.append("posts", post("Ether staking yields rise"))
    await index_log(store, settings)

    def texts(hits: list[SearchHit]) -> set[str]:
        return {hit.text for hit in hits}

    public = {"Ether staking yields, for everyone.", "Ether staking yields rise"}
    assert texts(await find(knowledge, "ether staking", viewer=str(ALICE))) == public | {
        "Ether staking: my own plan."
    }
    assert texts(await find(knowledge, "ether staking", viewer=str(BOB))) == public | {
        "Ether staking: Bob's secret plan."
    }
    assert texts(await find(knowledge, "ether staking", viewer=str(uuid4()))) == public
    assert len(await find(knowledge, "ether staking")) == 4  # operators see everything
    (mine,) = [
        h for h in await find(knowledge, "plan", viewer=str(ALICE)) if h.metadata.get("owner")
    ]
    assert (mine.metadata["visibility"], mine.metadata["owner"], mine.metadata["added_by"]) == (
        "private",
        str(ALICE),
        str(ALICE),
    )


async def test_a_removed_document_leaves_the_index(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore
) -> None:
    library = DocumentLibrary(store)
    await library.add(document("guide", GUIDE))
    await library.add(document("other", "Bitcoin fees explained.", format_="text"))
    await library.remove(None, "guide", removed_by=None)
    base = KnowledgeBase(knowledge_config(settings))
    worker = Worker(HANDLERS.get(GROUP), store, FAST, KnowledgeContext(store, base))

    try:
        # Drained, not polled: the two documents sit in different partitions, so the
        # index holds one chunk for a moment before the guide's removal is handled.
        await drain(worker)
        active = await knowledge.active()
        assert active is not None
        assert await (await knowledge.open(active.name)).count() == 1
        (hit,) = await find(knowledge, "staking fees")
        assert hit.metadata["document_id"] == "other"
        await library.add(document("guide", "Staking, second edition.", format_="text"))
        await drain(worker)
        assert len(await find(knowledge, "staking")) == 2
    finally:
        await base.aclose()


async def test_reindex_replays_documents_with_their_removals(
    store: EventStore, settings: Settings, knowledge: KnowledgeStore, prefix: str
) -> None:
    library = DocumentLibrary(store)
    await library.add(document("guide", GUIDE, owner=ALICE))
    await library.add(document("gone", "Soon removed.", format_="text"))
    await library.remove(None, "gone", removed_by=None)
    await store.append("posts", post("Solana validators restart"))
    await index_log(store, settings)

    result = await reindex(store, knowledge, HashingEmbeddings(), Chunker(256, 32))
    assert (result.collection, result.posts, result.documents) == (f"{prefix}_kb_hashing_g2", 1, 3)
    hits = await find(knowledge, "staking solana removed", viewer=str(ALICE))
    assert {h.metadata.get("document_id") for h in hits} == {"guide", None}
    assert len(hits) == 5  # the guide's 4 chunks and the post
    bob_sees = await find(knowledge, "staking", viewer=str(BOB))
    assert [hit.metadata["kind"] for hit in bob_sees] == ["post"]
