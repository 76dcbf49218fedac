"""`impressox knowledge reindex|status|search` as real processes, over embedded Chroma."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from events.store import EventStore
from impressox.settings import Settings
from tests.impressox.cli_support import cli_env, json_lines, run_cli
from tests.knowledge.support import API_KEY, embeddings_server, post
from tests.readside import isolated_settings


@pytest.mark.timeout(300)  # many processes; over a minute when the suite runs in four
async def test_reindex_status_and_search(
    store: EventStore, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    settings: Settings = isolated_settings(prefix, tmp_path, redis_url=redis_url)
    await store.append_batch(
        "posts",
        [
            post("Bitcoin miners sell as fees drop", author="bob", cashtags=("$BTC",)),
            post("Bitcoin ETF inflows hit a record", author="alice", symbols=("BTC/USDT",)),
            post("Solana validators restart", author="bob", symbols=("SOL",)),
        ],
    )
    async with embeddings_server() as server:
        env = cli_env(
            tmp_path,
            REDIS_URL=redis_url,
            IMPRESSOX_STREAM_PREFIX=settings.stream_prefix,
            IMPRESSOX_OPENAI_BASE_URL=server.url,
            IMPRESSOX_OPENAI_API_KEY=API_KEY,
            IMPRESSOX_OPENAI_EMBEDDING_DIMENSIONS="32",
        )

        async def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
            return await asyncio.to_thread(run_cli, {**env, **extra}, *args)

        empty = await cli("knowledge", "status")
        assert json_lines(empty.stdout) == [{"active": None, "configured_embeddings": "hashing"}]

        built = await cli("knowledge", "reindex", "--embeddings", "hashing")
        assert built.returncode == 0, built.stderr
        assert json_lines(built.stdout) == [
            {"active": f"{prefix}_kb_hashing_g1", "dropped": None, "posts": 3, "documents": 0}
        ]
        status = await cli("knowledge", "status")
        assert json_lines(status.stdout) == [
            {
                "active": f"{prefix}_kb_hashing_g1",
                "embeddings": "hashing",
                "embedding_model": "hashing/v1-384",
                "dimension": 384,
                "chunks": 3,
                "configured_embeddings": "hashing",
            }
        ]
        found = await cli("knowledge", "search", "bitcoin", "--symbol", "btc", "--author", "bob")
        assert found.returncode == 0, found.stderr
        (hit,) = json_lines(found.stdout)
        assert (hit["text"], hit["author"], hit["symbols"]) == (
            "Bitcoin miners sell as fees drop",
            "bob",
            ["BTC"],
        )

        moved = await cli("knowledge", "reindex", "--embeddings", "openai")
        assert json_lines(moved.stdout) == [
            {
                "active": f"{prefix}_kb_openai_g2",
                "dropped": f"{prefix}_kb_hashing_g1",
                "posts": 3,
                "documents": 0,
            }
        ]
        refused = await cli("knowledge", "search", "bitcoin")
        assert refused.returncode == 2
        assert "openai/text-embedding-3-small (32 dimensions)" in refused.stderr
        assert "impressox knowledge reindex" in refused.stderr
        again = await cli("knowledge", "search", "solana", "-k", "1", IMPRESSOX_EMBEDDINGS="openai")
        assert [hit["text"] for hit in json_lines(again.stdout)] == ["Solana validators restart"]

        unknown = await cli("knowledge", "reindex", "--embeddings", "word2vec")
        assert unknown.returncode == 2
        assert "unknown embeddings 'word2vec'" in unknown.stderr
