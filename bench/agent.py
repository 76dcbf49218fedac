"""Benchmark: the agent's turns with the offline model, and its evaluation set.

    python -m bench.agent --json [--quick] [--only eval|turns|search]

- ``turn_p50_ms`` / ``turn_p95_ms``: a user message recorded through the Conversations
  application (as the API records it) -> the agent's reply appended to the
  conversations log, read as it arrives. The `agent` worker and the projections run as
  the `impressox worker agent` / `impressox projections run` processes `impressox up`
  starts, on a private Redis and SecantusDB; messages are sent one after another, the
  development set's one-message cases in turn (prices, rules created, listed, paused,
  searches, clarifying questions, greetings): the understanding's full cost is in it.
- ``index_posts_per_s``: posts chunked, embedded with feature hashing and upserted into
  an embedded Chroma, in the `knowledge` handler's batches; the embedding alone is the
  baseline (``embed_only_posts_per_s``). ``search_p95_ms``: a query with a symbol and an
  engagement filter over 100,000 chunks (10,000 with ``--quick``).
- ``--only`` runs one part: ``search`` is the knowledge base part (indexing, then search).
- ``eval_development`` / ``eval_heldout``: the share of each evaluation set
  (`agent/evaluation/`) the offline model, through the real graph, gets right
  (the expected calls and arguments, or the expected kind of reply).

No baseline: the offline model is itself the floor a real provider's latency adds to.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import agent.toolset  # noqa: F401 - registers the tools
from agent.evaluation import evaluate, load
from agent.offline import OfflineChatModel
from agent.offline.vocabulary import SymbolBook
from aggregates.services.bundle import Services
from bench.common import (
    Result,
    arguments,
    fresh_prefix,
    impressox_process,
    note,
    percentile_ms,
    quiet_logs,
    redis_server,
    report,
    run_fast,
)
from bench.ws_fanout import mongo_server
from events.catalog import PriceTick
from events.envelope import Event
from events.names import StreamNames
from events.redis_client import entries, stream_replies
from events.store import EventStore
from impressox.configs import knowledge_config
from impressox.connections import connect_redis
from impressox.services import build_services
from impressox.settings import Settings
from knowledge.chunking import Chunker
from knowledge.embeddings import create_embeddings
from knowledge.indexer import KnowledgeItem, index_items
from knowledge.search import SearchFilters, search
from knowledge.store import KnowledgeStore

LABELS = {
    "turns": "turns measured",
    "turn_p50_ms": "message recorded -> reply appended, p50",
    "turn_p95_ms": "message recorded -> reply appended, p95",
    "eval_development": "development set: messages understood",
    "eval_heldout": "held-out set: messages understood",
    "index_posts_per_s": "posts indexed per second (chunk, hash-embed, upsert into Chroma)",
    "embed_only_posts_per_s": "baseline: the same posts only embedded, per second",
    "search_chunks": "chunks in the collection searched",
    "search_p50_ms": "knowledge search, symbol and engagement filters, p50",
    "search_p95_ms": "knowledge search, symbol and engagement filters, p95",
}
INDEX_BATCH = 256
"""Posts per indexing call: what the `knowledge` handler gets per batch."""
SEARCHES = 200
PRICES = {"BTC/USDT": 101_234.5, "ETH/USDT": 3_012.4, "SOL/USDT": 187.2, "ARB/USDT": 0.81}


# -- evaluation accuracy ------------------------------------------------------------------------


async def evaluation_accuracy() -> Result:
    results = await evaluate(lambda symbols: OfflineChatModel(symbols=SymbolBook(symbols)))
    return {f"eval_{name}": round(result.accuracy, 3) for name, result in results.items()}


def bench_messages() -> list[str]:
    """The development set's one-message cases: what a turn is measured on."""
    return [case.turns[0].says for case in load("development").cases if len(case.turns) == 1]


# -- turn latency ---------------------------------------------------------------------------------


@contextmanager
def agent_processes(settings: Settings) -> Iterator[None]:
    children = [
        impressox_process("agent", ["worker", "agent"], settings),
        impressox_process("projections", ["projections", "run"], settings),
    ]
    for child in children:
        child.start()
    try:
        yield
    finally:
        for child in children:
            child.stop()


async def _last_id(store: EventStore, stream: str) -> str:
    last = entries(await store.redis.xrevrange(stream, "+", "-", count=1))
    return last[0][0].decode() if last else "0"


async def _reply_seen(store: EventStore, log: str, last: str, message_id: str) -> str:
    """Block on the conversations log until the reply to `message_id` is appended."""
    while True:
        reply = await store.redis.xread({log: last}, block=5000, count=100)
        for _, arrivals in stream_replies(reply):
            for entry_id, fields in arrivals:
                last = entry_id.decode()
                if fields.get(b"type") == b"conversation.replied" and message_id.encode() in (
                    fields.get(b"payload") or b""
                ):
                    return last


async def turn_latency(redis_url: str, mongo_url: str, data_dir: Path, turns: int) -> Result:
    settings = Settings(
        redis_url=redis_url,
        mongo_url=mongo_url,
        stream_prefix=fresh_prefix("agent"),
        mongo_database=f"bench_agent_{time.time_ns() % 10**9}",
        data_dir=data_dir,
    )
    services: Services = build_services(settings, redis_url)
    redis = await connect_redis(redis_url)
    store = EventStore(redis, settings.stream_names())
    log = store.names.notification_log(StreamNames.application_tag("conversations"))
    user_id = services.users.register("bench trader")
    now = datetime.now(UTC)
    for symbol, price in PRICES.items():
        tick = PriceTick(symbol=symbol, venue="binance", price=price, source_time=now)
        await store.append("ticks", Event(key=symbol, payload=tick))
    latencies: list[int] = []
    messages = bench_messages()
    try:
        with agent_processes(settings):
            for number in range(turns + 1):
                text = messages[number % len(messages)]
                message = {"message_id": f"m{number}", "text": text}
                last = await _last_id(store, log)
                started = time.perf_counter_ns()
                await asyncio.to_thread(
                    services.conversations.receive, user_id, "web", "bench", message
                )
                await _reply_seen(
                    store, log, last.decode() if isinstance(last, bytes) else last, f"m{number}"
                )
                if number:  # the first turn starts the worker's graph and connections
                    latencies.append(time.perf_counter_ns() - started)
                if number % 25 == 0:
                    note(f"{number} turns")
    finally:
        services.close()
        await redis.aclose()
    return {
        "turns": len(latencies),
        "turn_p50_ms": percentile_ms(latencies, 50),
        "turn_p95_ms": percentile_ms(latencies, 95),
    }


# -- knowledge base --------------------------------------------------------------------------------

WORDS = (
    "staking",
    "yields",
    "liquidity",
    "upgrade",
    "validators",
    "fees",
    "bridge",
    "airdrop",
    "governance",
    "vote",
    "exchange",
    "listing",
    "whales",
    "funding",
    "rates",
    "open",
    "interest",
    "treasury",
    "hack",
    "exploit",
    "patch",
    "roadmap",
    "mainnet",
    "testnet",
    "rollup",
    "sequencer",
    "oracle",
    "lending",
    "borrowing",
    "collateral",
)
TICKERS = ("BTC", "ETH", "SOL", "ARB", "OP", "AVAX", "LINK", "DOGE")


def _posts(count: int) -> list[KnowledgeItem]:
    rng = random.Random(5)
    items = []
    for number in range(count):
        ticker = rng.choice(TICKERS)
        text = f"${ticker} " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
        metadata: dict[str, Any] = {
            "kind": "post",
            "author": f"user{rng.randrange(500)}",
            "created_at": 1_767_225_600 + number,
            "engagement": rng.randrange(1000),
            "symbols": [ticker],
        }
        items.append(KnowledgeItem(f"post-{number}", text, metadata))
    return items


async def knowledge_figures(data_dir: Path, *, posts: int, chunks: int) -> Result:
    """Indexing throughput (chunk, embed, upsert) and filtered search over `chunks`."""
    settings = Settings(data_dir=data_dir, stream_prefix=fresh_prefix("kb"))
    store = await KnowledgeStore.connect(knowledge_config(settings))
    embeddings = create_embeddings("hashing", knowledge_config(settings))
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens)
    try:
        collection = await store.open_active(embeddings)
        measured = _posts(posts)
        note(f"indexing {posts:,} posts")
        started = time.perf_counter()
        for start in range(0, posts, INDEX_BATCH):
            await index_items(
                collection, embeddings, chunker, measured[start : start + INDEX_BATCH]
            )
        index_s = time.perf_counter() - started
        started = time.perf_counter()
        await embeddings.embed([item.text for item in measured])
        embed_s = time.perf_counter() - started
        rest = _posts(chunks)[posts:]
        note(f"filling to {chunks:,} chunks")
        for start in range(0, len(rest), INDEX_BATCH):
            await index_items(collection, embeddings, chunker, rest[start : start + INDEX_BATCH])
        note("searching")
        latencies = []
        rng = random.Random(9)
        for _ in range(SEARCHES):
            query = " ".join(rng.choice(WORDS) for _ in range(4))
            filters = SearchFilters(symbol=rng.choice(TICKERS), min_engagement=100)
            began = time.perf_counter_ns()
            await search(store, embeddings, query, k=5, filters=filters)
            latencies.append(time.perf_counter_ns() - began)
        return {
            "index_posts_per_s": round(posts / index_s),
            "embed_only_posts_per_s": round(posts / embed_s),
            "search_chunks": await collection.count(),
            "search_p50_ms": percentile_ms(latencies, 50),
            "search_p95_ms": percentile_ms(latencies, 95),
        }
    finally:
        await embeddings.aclose()
        await store.aclose()


PARTS = ("eval", "turns", "search")


async def measure(
    redis_url: str, mongo_url: str, data_dir: Path, *, quick: bool, parts: tuple[str, ...]
) -> Result:
    result: Result = {}
    if "eval" in parts:
        note("evaluation set through the graph")
        result |= await evaluation_accuracy()
    if "turns" in parts:
        note("turns through the agent worker")
        result |= await turn_latency(redis_url, mongo_url, data_dir, 50 if quick else 300)
    if "search" in parts:
        sizes = (
            {"posts": 2_000, "chunks": 10_000} if quick else {"posts": 10_000, "chunks": 100_000}
        )
        result |= await knowledge_figures(data_dir / "kb", **sizes)
    return result


def main() -> None:
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--only", choices=PARTS, help="run one part (search: the knowledge base)")
    options = parser.parse_args()
    parts = (options.only,) if options.only else PARTS
    quiet_logs()
    with (
        tempfile.TemporaryDirectory(prefix="impressox-bench-agent-") as data_dir,
        redis_server() as server,
        mongo_server(Path(data_dir)) as mongo_url,
    ):
        result = run_fast(
            measure(server.url, mongo_url, Path(data_dir), quick=options.quick, parts=parts)
        )
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
