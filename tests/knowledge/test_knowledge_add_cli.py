"""`impressox knowledge add|remove` as real processes: shared documents from a file, once,
and one line with exit 2 for bad input."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from events.catalog.documents import MAX_TEXT_BYTES, DocumentAdded
from events.store import EventStore
from tests.impressox.cli_support import cli_env, json_lines, run_cli

GUIDE = "# Staking\nValidators stake 32 ETH.\n\n# Risks\nSlashing.\n"


@pytest.mark.slow
async def test_add_a_file_once_then_reindex_and_search_it(
    store: EventStore, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "data", REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_cli, env, *args)

    guide = tmp_path / "Staking Guide.md"
    guide.write_text(GUIDE)
    args = ("knowledge", "add", str(guide), "--title", "Staking guide", "--symbol", "ETH")
    added = await cli(*args, "--source", "https://example.com/staking")
    assert added.returncode == 0, added.stderr
    (receipt,) = json_lines(added.stdout)
    assert (receipt["id"], receipt["duplicate"]) == ("Staking-Guide", False)
    again = await cli(*args, "--source", "https://example.com/staking")
    assert json_lines(again.stdout) == [receipt | {"duplicate": True}]

    (recorded,) = [r async for r in store.read_category("documents")]
    document = recorded.event.payload
    assert isinstance(document, DocumentAdded)
    assert (document.format, document.owner, document.added_by, document.symbols) == (
        "markdown",
        None,
        None,
        ("ETH",),
    )
    assert (document.title, document.source, document.text) == (
        "Staking guide",
        "https://example.com/staking",
        GUIDE,
    )

    built = await cli("knowledge", "reindex", "--embeddings", "hashing")
    assert built.returncode == 0, built.stderr
    assert json_lines(built.stdout)[0] | {"active": ""} == {
        "active": "",
        "dropped": None,
        "posts": 0,
        "documents": 1,
    }
    found = await cli("knowledge", "search", "slashing risks", "-k", "1")
    (hit,) = json_lines(found.stdout)
    assert (hit["text"], hit["section"], hit["visibility"]) == (
        "# Risks\nSlashing.",
        "Risks",
        "shared",
    )

    removed = await cli("knowledge", "remove", "Staking-Guide")
    assert removed.returncode == 0, removed.stderr
    missing = await cli("knowledge", "remove", "Staking-Guide")
    assert (missing.returncode, missing.stderr) == (2, "error: no document 'Staking-Guide'\n")


@pytest.mark.slow
async def test_bad_input_exits_2_with_one_line(
    store: EventStore, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "data", REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    notes = tmp_path / "notes.txt"
    notes.write_text("Plain notes.")
    huge = tmp_path / "huge.txt"
    huge.write_text("x" * (MAX_TEXT_BYTES + 1))
    changed = tmp_path / "changed.txt"
    changed.write_text("Other notes.")

    def add(file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, "knowledge", "add", str(file), "--title", "Notes", *extra)

    cases = {
        "error: no such file: ": add(tmp_path / "missing.md"),
        f"error: {huge} is {MAX_TEXT_BYTES + 1} bytes: a document holds at most": add(huge),
        "error: --symbol 'btc': expected a ticker or BASE/QUOTE in capitals": add(
            notes, "--symbol", "btc"
        ),
    }
    for start, result in cases.items():
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(start), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
    assert (await asyncio.to_thread(add, notes, "--id", "notes")).returncode == 0
    conflict = await asyncio.to_thread(add, changed, "--id", "notes")
    assert conflict.returncode == 2
    assert conflict.stderr == (
        "error: document 'notes' exists with other content: remove it first to replace it\n"
    )
    assert [r.event.type async for r in store.read_category("documents")] == ["document.added"]
