"""`impressox knowledge add|remove|search|status|reindex`: the knowledge base the agent reads.

Documents added here are an operator's: shared with every user, like those added with an
admin key through the API (`POST /v1/knowledge/documents`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from events.catalog.documents import MAX_TEXT_BYTES, DocumentAdded, DocumentFormat
from events.store import EventStore
from impressox.cli.common import fail, redis_for, run, settings_from
from impressox.configs import knowledge_config
from impressox.settings import Settings
from knowledge.chunking import Chunker
from knowledge.documents import DocumentLibrary, DocumentReceipt
from knowledge.embeddings import EMBEDDINGS_NAMES, create_embeddings
from knowledge.reindex import ReindexResult, count_entries, reindex
from knowledge.search import SearchFilters, SearchHit, search
from knowledge.store import KnowledgeStore

app = typer.Typer(
    help="The knowledge base: add documents, search it, inspect it, reindex it.",
    no_args_is_help=True,
)

MARKDOWN_SUFFIXES = {".md", ".markdown"}


@app.command("add")
def add_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A Markdown (.md) or plain text file.")],
    title: Annotated[str, typer.Option(help="What the document is, for people.")],
    source: Annotated[str, typer.Option(help="Where it comes from: a URL, or manual.")] = "manual",
    symbol: Annotated[
        list[str] | None, typer.Option(help="What it is about: BTC or BTC/USDT (repeatable).")
    ] = None,
    document_id: Annotated[
        str | None, typer.Option("--id", help="Its id (default: from the file name).")
    ] = None,
    format_: Annotated[
        DocumentFormat | None,
        typer.Option("--format", help="markdown or text (default: from the file's suffix)."),
    ] = None,
) -> None:
    """Add FILE to the knowledge base, shared with every user; once per id.

    Prints the receipt as JSON; adding the same file again is a duplicate, adding other
    content under an existing id is refused (remove it first).
    """
    document = _document(file, title, source, symbol or [], document_id, format_)
    settings = settings_from(ctx)

    async def go() -> DocumentReceipt:
        async with redis_for(settings) as redis:
            return await DocumentLibrary(EventStore(redis, settings.stream_names())).add(document)

    receipt = run(go())
    typer.echo(orjson.dumps(_receipt(receipt)).decode())


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    document_id: Annotated[str, typer.Argument(help="The id of a shared document.")],
) -> None:
    """Remove a shared document from the knowledge base."""
    settings = settings_from(ctx)

    async def go() -> DocumentReceipt:
        async with redis_for(settings) as redis:
            library = DocumentLibrary(EventStore(redis, settings.stream_names()))
            return await library.remove(None, document_id, removed_by=None)

    typer.echo(orjson.dumps(_receipt(run(go()))).decode())


def _document(
    file: Path,
    title: str,
    source: str,
    symbols: list[str],
    document_id: str | None,
    format_: DocumentFormat | None,
) -> DocumentAdded:
    """The document to add, or exit 2 saying what is wrong with the input."""
    try:
        size = file.stat().st_size
        if size > MAX_TEXT_BYTES:
            fail(f"{file} is {size} bytes: a document holds at most {MAX_TEXT_BYTES}")
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"no such file: {file}")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file} as UTF-8 text: {error}")
    fields = {
        "document_id": document_id or _slug(file.stem),
        "title": title,
        "source": source,
        "format": format_ or ("markdown" if file.suffix.lower() in MARKDOWN_SUFFIXES else "text"),
        "text": text,
        "symbols": tuple(symbols),
        "added_at": datetime.now(UTC),
    }
    try:
        return DocumentAdded.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0])
        if name == "symbols":
            fail(f"--symbol {first['input']!r}: expected a ticker or BASE/QUOTE in capitals,"
                 " e.g. BTC or BTC/USDT")  # fmt: skip
        option = {"document_id": "--id", "text": str(file)}.get(name, f"--{name}")
        fail(f"{option}: {first['msg']}")


def _slug(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:128] or "document"


def _receipt(receipt: DocumentReceipt) -> dict[str, object]:
    return {
        "id": receipt.document_id,
        "event_id": str(receipt.event_id),
        "position": f"{receipt.stream}@{receipt.position}",
        "duplicate": receipt.duplicate,
    }


@app.command("search")
def search_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Chunks to return.")] = 5,
    symbol: Annotated[str | None, typer.Option(help="Only posts naming it (BTC, $BTC).")] = None,
    author: Annotated[str | None, typer.Option(help="Only this author's posts.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source's (x, rss...).")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only posts from this time on (ISO, UTC if bare).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Only posts up to this time.")] = None,
    min_engagement: Annotated[
        int | None, typer.Option(min=0, help="Only posts with this many interactions or more.")
    ] = None,
) -> None:
    """Print the chunks closest to QUERY, one JSON object a line, best first."""
    settings = settings_from(ctx)
    filters = SearchFilters(
        symbol=symbol,
        author=author,
        source=source,
        since=_aware(since),
        until=_aware(until),
        min_engagement=min_engagement,
    )

    async def go() -> list[SearchHit]:
        embeddings = create_embeddings(settings.embeddings, knowledge_config(settings))
        store = await KnowledgeStore.connect(knowledge_config(settings))
        try:
            return await search(store, embeddings, query, k=k, filters=filters)
        finally:
            await store.aclose()
            await embeddings.aclose()

    for hit in run(go()):
        line = {"id": hit.id, "score": round(hit.score, 4), "text": hit.text, **hit.metadata}
        typer.echo(orjson.dumps(line).decode())


@app.command("status")
def status_command(ctx: typer.Context) -> None:
    """The active collection, its embedding model and dimension, and its chunk count."""
    settings = settings_from(ctx)

    async def go() -> dict[str, object]:
        store = await KnowledgeStore.connect(knowledge_config(settings))
        try:
            info = await store.active()
            if info is None:
                return {"active": None, "configured_embeddings": settings.embeddings}
            collection = await store.open(info.name)
            return {
                "active": info.name,
                "embeddings": info.embeddings,
                "embedding_model": info.model,
                "dimension": info.dimension,
                "chunks": await collection.count(),
                "configured_embeddings": settings.embeddings,
            }
        finally:
            await store.aclose()

    typer.echo(orjson.dumps(run(go())).decode())


@app.command("reindex")
def reindex_command(
    ctx: typer.Context,
    embeddings_name: Annotated[
        str,
        typer.Option(
            "--embeddings", help=f"Embeddings to rebuild with ({', '.join(EMBEDDINGS_NAMES)})."
        ),
    ],
) -> None:
    """Replay every post and document into a new collection with other embeddings, then
    swap it in.

    The old collection is dropped after the swap. Restart the knowledge workers with
    IMPRESSOX_EMBEDDINGS set to the same name: until then they wait instead of writing.
    """
    settings = settings_from(ctx)
    result = run(_reindex(settings, embeddings_name))
    typer.echo(
        orjson.dumps(
            {
                "active": result.collection,
                "dropped": result.previous,
                "posts": result.posts,
                "documents": result.documents,
            }
        ).decode()
    )


async def _reindex(settings: Settings, name: str) -> ReindexResult:
    embeddings = create_embeddings(name, knowledge_config(settings))
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens)
    knowledge = await KnowledgeStore.connect(knowledge_config(settings))
    try:
        async with redis_for(settings) as redis:
            store = EventStore(redis, settings.stream_names())
            with _progress_bar() as bar:
                task = bar.add_task("reindex", total=await count_entries(store))
                return await reindex(
                    store,
                    knowledge,
                    embeddings,
                    chunker,
                    progress=lambda done: bar.advance(task, done),
                )
    finally:
        await knowledge.aclose()
        await embeddings.aclose()


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("replaying posts and documents into the new collection"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
