"""`impressox sources list|run x|rss|posts-import` as real processes, on local servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.store import EventStore
from tests.impressox.cli_support import Cli, json_lines, run_cli
from tests.polling import wait_until
from tests.sources.posts.servers import BASE_ID, FakeFeeds, FakeX
from tests.sources.posts.support import stored_posts
from tests.sources.servers import serving
from tests.sources.test_cli import Running

TOKEN = "x-test-token"


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.communicate()


def test_list_shows_the_post_sources(cli: Cli) -> None:
    rows = {row["name"]: row for row in json_lines(cli("sources", "list", "--json").stdout)}
    assert {name: rows[name]["appends"] for name in ("x", "rss", "posts-import", "replay")} == {
        "x": "posts",
        "rss": "posts",
        "posts-import": "posts",
        "replay": "ticks",
    }


async def test_the_demo_set_is_imported_once(cli: Cli, store: EventStore) -> None:
    first = await asyncio.to_thread(cli, "sources", "run", "posts-import")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "source": "posts-import",
        "posts": 30,
        "new": 30,
        "duplicates": 0,
    }
    again = await asyncio.to_thread(cli, "sources", "run", "posts-import")
    assert json.loads(again.stdout)["duplicates"] == 30
    assert len(await stored_posts(store)) == 30


@pytest.mark.parametrize(
    ("args", "extra_env", "message", "code"),
    [
        (["posts-import", "--file", "{bad}"], {}, "bad.jsonl, line 2: not valid JSON", 2),
        (["posts-import", "--file", "{missing}"], {}, "cannot read: No such file", 2),
        (["x"], {}, "the x source needs a bearer token (IMPRESSOX_X_BEARER_TOKEN)", 2),
        (["rss", "--file", "{bad}"], {}, "--file does not apply to the rss source", 2),
        (["x", "--stale-after", "5"], {}, "--stale-after does not apply to the x source", 2),
        (
            ["x"],
            {"IMPRESSOX_X_BEARER_TOKEN": "wrong-secret", "IMPRESSOX_X_QUERIES": '["$sol"]'},
            "X refused the bearer token (HTTP 401): check IMPRESSOX_X_BEARER_TOKEN",
            1,
        ),
    ],
)
async def test_bad_input_and_a_refused_token_exit_with_one_line_and_append_nothing(
    *,
    env: dict[str, str],
    tmp_path: Path,
    store: EventStore,
    args: list[str],
    extra_env: dict[str, str],
    message: str,
    code: int,
) -> None:
    bad = tmp_path / "bad.jsonl"
    good = '{"post_id": "1", "author": "a", "text": "t", "created_at": "2026-11-01T10:00:00Z"}'
    bad.write_text(f"{good}\n{{oops\n")
    paths = {"bad": bad, "missing": tmp_path / "nope.jsonl"}
    with serving(FakeX().app()) as url:
        process_env = {**env, "IMPRESSOX_X_API_URL": url, **extra_env}
        argv = ["sources", "run", *(arg.format(**paths) for arg in args)]
        result = await asyncio.to_thread(run_cli, process_env, *argv)
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "wrong-secret" not in result.stderr
    assert await stored_posts(store) == []


async def test_x_is_polled_and_a_restart_resumes_from_its_cursor(
    env: dict[str, str], running: list[Running], store: EventStore
) -> None:
    fake = FakeX(token=TOKEN)
    for number in range(1, 13):
        fake.add(number, "coastal_charts", f"$SOL update {number}")
    with serving(fake.app()) as url:
        x_env = {
            **env,
            "IMPRESSOX_X_API_URL": url,
            "IMPRESSOX_X_BEARER_TOKEN": TOKEN,
            "IMPRESSOX_X_QUERIES": '["$sol"]',
        }
        process = Running(x_env, "x", "--poll-interval", "0.1")
        running.append(process)
        await wait_until(lambda: _posts_at_least(store, 12), within=60)  # a process starts
        code, stdout, stderr = await asyncio.to_thread(process.stop)
        assert code == 0, stderr
        assert json.loads(stdout)["new"] == 12
        assert TOKEN not in stderr

        fake.add(13, "coastal_charts", "$SOL update 13")
        fake.requests.clear()
        process = Running(x_env, "x", "--poll-interval", "0.1")
        running.append(process)
        await wait_until(lambda: _posts_at_least(store, 13), within=60)
        code, stdout, _ = await asyncio.to_thread(process.stop)
    assert code == 0
    assert json.loads(stdout)["duplicates"] == 0
    assert fake.requests[0][1]["since_id"] == str(BASE_ID + 12)
    ids = sorted(post.post_id for post in await stored_posts(store))
    assert ids == [str(BASE_ID + n) for n in range(1, 14)]


async def test_rss_feeds_are_polled_until_sigterm(
    env: dict[str, str], running: list[Running], store: EventStore
) -> None:
    fake = FakeFeeds(items=[(1, "$BTC holds", "Quiet day"), (2, "$ETH slips", "Busy day")])
    with serving(fake.app()) as url:
        feeds = json.dumps([f"{url}/rss.xml", f"{url}/atom.xml"])
        process = Running({**env, "IMPRESSOX_RSS_FEEDS": feeds}, "rss", "--poll-interval", "0.1")
        running.append(process)
        await wait_until(lambda: _posts_at_least(store, 3))
        code, stdout, stderr = await asyncio.to_thread(process.stop)
    assert code == 0, stderr
    assert json.loads(stdout)["new"] == 3
    assert sorted(post.post_id for post in await stored_posts(store)) == [
        "news-1",
        "news-2",
        "urn:uuid:fern-1",
    ]


async def _posts_at_least(store: EventStore, count: int) -> bool:
    return len(await stored_posts(store)) >= count
