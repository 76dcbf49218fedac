"""`impressox events ...` and `impressox worker` as real processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bots.health import BotHealth, HealthPublisher
from events.names import StreamNames
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.embedded.process import ChildProcess, free_port
from tests.factories import ping
from tests.handlers.crash_handlers import copy_ping  # noqa: F401 - registers "copier"
from tests.handlers.support import FAST, running
from tests.impressox.cli_support import REPO, Cli, LineReader, cli_env, json_lines, run_cli
from tests.polling import wait_until


@pytest.fixture
def cli(redis_url: str, prefix: str, tmp_path: Path) -> Cli:
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    return lambda *args, stdin="": run_cli(env, *args, stdin=stdin)


def pings(*numbers: int, key: str = "k") -> str:
    return "\n".join(
        json.dumps({"type": "test.ping", "key": key, "payload": {"n": n}}) for n in numbers
    )


def test_appended_events_read_back(cli: Cli) -> None:
    appended = cli("events", "append", "pings", stdin=pings(1, 2, 3))
    assert appended.returncode == 0, appended.stderr
    results = json_lines(appended.stdout)
    assert [r["duplicate"] for r in results] == [False, False, False]
    read = cli("events", "read", "pings")
    assert read.returncode == 0, read.stderr
    events = json_lines(read.stdout)
    assert [e["payload"]["n"] for e in events] == [1, 2, 3]
    assert [e["position"] for e in events] == [r["position"] for r in results]
    assert {e["stream"] for e in events} == {results[0]["stream"]}


def test_an_array_file_is_accepted_and_event_ids_make_retries_safe(
    cli: Cli, tmp_path: Path
) -> None:
    events = [
        {
            "event_id": "0b7d7c3e-8a49-4c1e-9e1b-6f3d2a1c0b9a",
            "type": "test.ping",
            "key": "k",
            "payload": {"n": 1},
        }
    ]
    file = tmp_path / "events.json"
    file.write_text(json.dumps(events))
    first = json_lines(cli("events", "append", "pings", str(file)).stdout)
    again = json_lines(cli("events", "append", "pings", str(file)).stdout)
    assert again[0]["position"] == first[0]["position"]
    assert again[0]["duplicate"] is True


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            pings(1) + '\n{"type": "test.ping", "key": "k", "payload": {"n": "x"}}',
            "error: line 2: payload.n: ",
        ),
        (pings(1) + "\n{not json", "error: line 2: not valid JSON"),
        (
            '{"type": "nobody.knows", "key": "k", "payload": {}}',
            "error: line 1: unknown event type",
        ),
        ("", "error: no events in the input"),
        (
            '{"type": "price.tick", "key": "BTC/USDT", "payload": {"symbol": "BTC/USDT",'
            ' "venue": "manual", "price": 1, "source_time": "2999-01-01T00:00:00Z"}}',
            "error: line 1: payload.source_time: is in the future",
        ),
    ],
)
async def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, redis: Redis, names: StreamNames, stdin: str, message: str
) -> None:
    result = await asyncio.to_thread(cli, "events", "append", "pings", stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    for stream in names.category_streams("pings"):
        assert await redis.xlen(stream) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["events", "append", "Bad:Category"], "error: invalid category"),
        (
            ["events", "read", "pings", "--from", "yesterday"],
            "error: invalid --from value 'yesterday'",
        ),
        (
            ["events", "read", "pings", "--correlation-id", "nope"],
            "error: invalid --correlation-id",
        ),
        (
            ["events", "read", "other:{p0}:pings"],
            "error: 'other:{p0}:pings' is not an Impressox stream",
        ),
        (["worker", "nobody"], "error: no handler named 'nobody' (registered: "),
    ],
)
def test_bad_arguments_exit_2_with_one_line(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args, stdin="")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_settings_stop_every_command(redis_url: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_BATCHSIZE="10")
    result = run_cli(env, "events", "info")
    assert result.returncode == 2
    assert (
        result.stderr
        == "error: unknown setting IMPRESSOX_BATCHSIZE (did you mean IMPRESSOX_BATCH_SIZE?)\n"
    )


def test_reads_filter_and_walk_backwards(cli: Cli) -> None:
    cli("events", "append", "pings", stdin=pings(*range(10)))
    newest = json_lines(cli("events", "read", "pings", "--reverse", "--limit", "3").stdout)
    assert [e["payload"]["n"] for e in newest] == [9, 8, 7]
    chain = newest[0]["correlation_id"]
    one = json_lines(cli("events", "read", "pings", "--correlation-id", chain).stdout)
    assert [e["payload"]["n"] for e in one] == [9]
    recent = json_lines(
        cli("events", "read", "pings", "--from", "10m", "--type", "test.ping").stdout
    )
    assert len(recent) == 10
    none = json_lines(cli("events", "read", "pings", "--type", "test.pong").stdout)
    assert none == []
    exact = json_lines(
        cli("events", "read", newest[0]["stream"], "--from", newest[1]["position"]).stdout
    )
    assert [e["payload"]["n"] for e in exact] == [8, 9]


def test_tail_prints_events_as_they_arrive(
    cli: Cli, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    tail = subprocess.Popen(
        [sys.executable, "-m", "impressox", "events", "tail", "pings"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert tail.stdout is not None
    lines = LineReader(tail.stdout)
    try:
        line = None
        for _ in range(30):  # the tail may start after our first append: append until seen
            cli("events", "append", "pings", stdin=pings(42))
            line = lines.next_line(timeout=1.0)
            if line:
                break
        assert line is not None, "tail printed nothing"
        assert json.loads(line)["payload"]["n"] == 42
    finally:
        tail.terminate()
        tail.wait(timeout=10)
        lines.close()
        if tail.stderr:
            tail.stderr.close()


async def test_info_reports_streams_and_handlers(
    cli: Cli, store: EventStore, names: StreamNames
) -> None:
    spec = HANDLERS.get("copier")
    await store.append_batch("pings", [ping(n) for n in range(12)])
    async with running(Worker(spec, store, FAST)):
        await wait_until(lambda: _copied(store, 12))
        # The CLI runs in a thread: a blocking call here would stall the worker's heartbeat.
        report = json.loads((await asyncio.to_thread(cli, "events", "info", "--json")).stdout)[
            "streams"
        ]
        live = await asyncio.to_thread(cli, "worker", "copier", "--check")
    streams = {s["stream"]: s for s in report}
    pings_streams = [s for s in report if s["category"] == "pings"]
    assert sum(s["length"] for s in pings_streams) == 12
    groups = [g for s in pings_streams for g in s["groups"]]
    assert {g["group"] for g in groups} == {"copier"}
    assert sum(g["processed"] for g in groups) == 12
    assert all(g["pending"] == 0 and g["lag"] == 0 for g in groups)
    assert all(g["owner"] for g in groups)
    assert any(name.endswith(":pongs") for name in streams)
    assert live.returncode == 0
    assert live.stdout.startswith("copier: 1 live consumer(s): copier@")
    assert all(g["waiting_s"] is None and g["stalled"] is False for g in groups)
    table = await asyncio.to_thread(cli, "events", "info")
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in table.stdout
    (pings_row,) = [line.split() for line in lines if line.split()[:1] == ["pings"]]
    assert pings_row[:3] == ["pings", "4", "12"]
    (copier_row,) = [line.split() for line in lines if line.split()[:1] == ["copier"]]
    assert copier_row[1:5] == ["0/4", "0", "0", "12"]  # the worker has stopped: no owners
    every = await asyncio.to_thread(cli, "events", "info", "--streams")
    assert max(len(line) for line in every.stdout.splitlines()) <= 80
    assert "…" not in every.stdout
    assert "stalled" not in table.stdout


async def test_info_lists_the_bots_that_report_their_health(cli: Cli, store: EventStore) -> None:
    health = BotHealth("discord", connected=True, messages_in=3, recorded=2, errors=1)
    publisher = HealthPublisher(store.redis, store.names, health)
    await publisher.publish()
    report = json.loads((await asyncio.to_thread(cli, "events", "info", "--json")).stdout)
    discord = report["bots"]["discord"]
    assert discord["connected"] is True
    assert (discord["messages_in"], discord["recorded"], discord["errors"]) == (3, 2, 1)
    assert discord["last_event_at"] is None
    assert "telegram" not in report["bots"]
    await publisher.publish()  # as the bot does: a report lives STALE_AFTER_S, a slow CLI as long
    table = (await asyncio.to_thread(cli, "events", "info")).stdout
    (row,) = [line.split() for line in table.splitlines() if line.split()[:1] == ["discord"]]
    assert row[1] == "yes"


async def test_info_marks_a_stalled_partition(
    redis_url: str, prefix: str, tmp_path: Path, store: EventStore
) -> None:
    env = cli_env(
        tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix, IMPRESSOX_STALL_AFTER_S="0.2"
    )
    stream = (await store.append("pings", ping(1))).stream
    await store.redis.xgroup_create(stream, "copier", "0")  # nobody runs it

    async def stalled() -> bool:
        report = await asyncio.to_thread(run_cli, env, "events", "info", "--json")
        (group,) = next(s for s in json.loads(report.stdout)["streams"] if s["stream"] == stream)[
            "groups"
        ]
        return bool(group["stalled"])

    await wait_until(stalled)
    table = (await asyncio.to_thread(run_cli, env, "events", "info")).stdout
    assert any(line.split()[:2] == ["copier", "!"] for line in table.splitlines())
    assert "! stalled: work waited over 0.2 s (IMPRESSOX_STALL_AFTER_S)" in table
    assert any(line.strip().startswith("copier: p") for line in table.splitlines())


def test_worker_check_fails_when_nobody_runs(cli: Cli) -> None:
    result = cli("worker", "copier", "--check")
    assert result.returncode == 1
    assert result.stdout == "copier: 0 live consumer(s)\n"


async def _copied(store: EventStore, count: int) -> bool:
    total = sum([await store.redis.xlen(s) for s in store.names.category_streams("pongs")])
    return total >= count


def test_commands_use_the_data_directory_when_nothing_runs(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    assert run_cli(env, "events", "append", "pings", stdin=pings(7)).returncode == 0
    read = run_cli(env, "events", "read", "pings")
    assert [e["payload"]["n"] for e in json_lines(read.stdout)] == [7]
    assert (tmp_path / "data" / "redis" / "redis.log").exists()


async def test_a_worker_serves_prometheus_metrics(
    cli: Cli, store: EventStore, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    await store.append_batch("pings", [ping(n) for n in range(5)])
    argv = [sys.executable, "-m", "impressox", "worker", "copier", "--metrics-port", str(port)]
    worker = ChildProcess("worker", argv, log_path=tmp_path / "worker.log", env=env, cwd=REPO)
    worker.start()
    try:
        await wait_until(lambda: _copied(store, 5))
        # The HELP line comes first; the group's sample once the exporter has read Redis.
        await wait_until(lambda: _scraped(port, 'impressox_group_processed_total{group="copier"'))
        text = await asyncio.to_thread(_scrape, port)
    finally:
        worker.stop()
    assert 'impressox_group_processed_total{group="copier"' in text
    assert "impressox_handler_batch_seconds_bucket" in text
    assert worker.exit_code() == 0, worker.log_tail()


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


async def _scraped(port: int, needle: str) -> bool:
    return needle in await asyncio.to_thread(_scrape, port)


def test_large_inputs_are_appended_in_chunks(cli: Cli) -> None:
    lines = "\n".join(
        json.dumps({"type": "test.ping", "key": f"k{n % 50}", "payload": {"n": n}})
        for n in range(12_000)
    )
    first = cli("events", "append", "pings", stdin=lines)
    assert first.returncode == 0, first.stderr
    assert json_lines(first.stdout) == [{"appended": 12_000, "duplicates": 0}]
    count = json_lines(cli("events", "read", "pings", "--type", "test.ping").stdout)
    assert len(count) == 12_000
