"""`impressox knowledge search|status|reindex`: the knowledge base the agent reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from events.store import EventStore
from handlers.rag.chunking import Chunker
from handlers.rag.embeddings import EMBEDDINGS_NAMES, create_embeddings
from handlers.rag.reindex import ReindexResult, count_posts, reindex
from handlers.rag.search import SearchFilters, SearchHit, search
from handlers.rag.store import KnowledgeStore
from impressox.cli.common import redis_for, run, settings_from
from impressox.settings import Settings

app = typer.Typer(
    help="The knowledge base: search it, inspect it, reindex it.", no_args_is_help=True
)


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
        embeddings = create_embeddings(settings.embeddings, settings)
        store = await KnowledgeStore.connect(settings)
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
        store = await KnowledgeStore.connect(settings)
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
    """Replay every post into a new collection with other embeddings, then swap it in.

    The old collection is dropped after the swap. Restart the knowledge workers with
    IMPRESSOX_EMBEDDINGS set to the same name: until then they wait instead of writing.
    """
    settings = settings_from(ctx)
    result = run(_reindex(settings, embeddings_name))
    typer.echo(
        orjson.dumps(
            {"active": result.collection, "dropped": result.previous, "posts": result.posts}
        ).decode()
    )


async def _reindex(settings: Settings, name: str) -> ReindexResult:
    embeddings = create_embeddings(name, settings)
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens)
    knowledge = await KnowledgeStore.connect(settings)
    try:
        async with redis_for(settings) as redis:
            store = EventStore(redis, settings.stream_names())
            with _progress_bar() as bar:
                task = bar.add_task("reindex", total=await count_posts(store))
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
        TextColumn("replaying posts into the new collection"),
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
