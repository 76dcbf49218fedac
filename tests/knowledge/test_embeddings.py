"""The embeddings: the shared contract for each, and what is particular to each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from impressox.configs import knowledge_config
from impressox.settings import Settings
from knowledge.embeddings import Embeddings, create_embeddings
from knowledge.errors import KnowledgeBaseUnavailableError, UnknownEmbeddingsError
from knowledge.hashing import HashingEmbeddings
from knowledge.openai_embeddings import EmbeddingRequestError, OpenAIEmbeddings
from tests.knowledge.embeddings_contract import EmbeddingsContract
from tests.knowledge.support import API_KEY, EmbeddingsServer, embeddings_server


class TestHashingEmbeddings(EmbeddingsContract):
    async def create(self) -> AsyncIterator[Embeddings]:
        yield HashingEmbeddings()


class TestOpenAIEmbeddings(EmbeddingsContract):
    async def create(self) -> AsyncIterator[Embeddings]:
        async with embeddings_server() as server:
            embeddings = openai(server, "text-embedding-3-small", 256)
            yield embeddings
            await embeddings.aclose()


def openai(server: EmbeddingsServer, model: str, dimension: int) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(
        base_url=server.url, api_key=SecretStr(API_KEY), model=model, dimension=dimension
    )


def test_hashing_vectors_are_the_same_in_every_process() -> None:
    # CRC-32, not hash(): a vector computed today must match one stored last month.
    script = (
        "import json; from knowledge.hashing import HashingEmbeddings;"
        " print(json.dumps(HashingEmbeddings().embed_now(['$SOL pumps on memecoin mania'])))"
    )
    vectors = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script],
                env={**os.environ, "PYTHONHASHSEED": seed},
                capture_output=True,
                check=True,
                text=True,
            ).stdout
        )
        for seed in ("1", "2")
    ]
    assert (
        vectors[0] == vectors[1] == HashingEmbeddings().embed_now(["$SOL pumps on memecoin mania"])
    )


async def test_a_large_hashing_batch_gives_the_same_vectors_off_the_loop() -> None:
    hashing = HashingEmbeddings()
    texts = [f"post number {i} about $ETH" for i in range(200)]
    assert await hashing.embed(texts) == hashing.embed_now(texts)


async def test_openai_requests_carry_model_dimensions_and_batches() -> None:
    async with embeddings_server() as server:
        embeddings = openai(server, "text-embedding-3-large", 64)
        try:
            vectors = await embeddings.embed([f"text {i}" for i in range(300)])
        finally:
            await embeddings.aclose()
    assert len(vectors) == 300
    assert [len(r["input"]) for r in server.requests] == [256, 44]
    assert {(r["model"], r["dimensions"]) for r in server.requests} == {
        ("text-embedding-3-large", 64)
    }


async def test_openai_models_that_cannot_shorten_vectors_get_no_dimensions() -> None:
    async with embeddings_server() as server:
        embeddings = openai(server, "text-embedding-ada-002", 1536)
        try:
            (vector,) = await embeddings.embed(["hello"])
        finally:
            await embeddings.aclose()
    assert "dimensions" not in server.requests[0]
    assert len(vector) == 1536


async def test_openai_vectors_of_another_length_are_refused() -> None:
    async with embeddings_server() as server:
        embeddings = openai(server, "text-embedding-ada-002", 384)
        try:
            with pytest.raises(EmbeddingRequestError, match="1536 dimensions, configured 384"):
                await embeddings.embed(["hello"])
        finally:
            await embeddings.aclose()


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_openai_busy_or_down_means_wait(status: int) -> None:
    async with embeddings_server() as server:
        server.failures.append(status)
        embeddings = openai(server, "text-embedding-3-small", 32)
        try:
            with pytest.raises(KnowledgeBaseUnavailableError, match=str(status)):
                await embeddings.embed(["hello"])
            assert len(await embeddings.embed(["hello"])) == 1
        finally:
            await embeddings.aclose()


async def test_openai_refusing_the_request_fails_it() -> None:
    async with embeddings_server() as server:
        server.failures.append(400)
        embeddings = openai(server, "text-embedding-3-small", 32)
        try:
            with pytest.raises(EmbeddingRequestError, match="400"):
                await embeddings.embed(["hello"])
        finally:
            await embeddings.aclose()


async def test_openai_unreachable_means_wait(unused_tcp_port: int) -> None:
    embeddings = OpenAIEmbeddings(
        base_url=f"http://127.0.0.1:{unused_tcp_port}/v1",
        api_key=SecretStr(API_KEY),
        model="text-embedding-3-small",
        dimension=32,
    )
    try:
        with pytest.raises(KnowledgeBaseUnavailableError, match="unreachable"):
            await embeddings.embed(["hello"])
    finally:
        await embeddings.aclose()


def test_openai_without_a_key_is_a_configuration_error() -> None:
    with pytest.raises(UnknownEmbeddingsError, match="IMPRESSOX_OPENAI_API_KEY"):
        create_embeddings("openai", knowledge_config(Settings(openai_api_key=None)))


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownEmbeddingsError, match="hashing, minilm, openai"):
        create_embeddings("word2vec", knowledge_config(Settings()))
