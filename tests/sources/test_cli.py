"""`impressox sources list|run` as real processes, against Redis and local venues."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.catalog import PriceTick
from events.store import EventStore
from tests.impressox.cli_support import REPO, Cli, json_lines, run_cli
from tests.polling import wait_until
from tests.sources.servers import FakeBinance, FakeCoinGecko, serving
from tests.sources.support import stored_ticks

HISTORY = """timestamp,symbol,price,volume
1767225600,BTC/USDT,100000,1
1767225601,ETH/USDT,3500,2
1767225602,BTC/USDT,100010,0.5
"""


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    path.write_text(HISTORY)
    return path


@pytest.fixture
def paths(tmp_path: Path, history: Path) -> dict[str, Path]:
    """Files bad-input tests name: a good history, a malformed one, a missing one."""
    bad = tmp_path / "bad.csv"
    bad.write_text("time,symbol,price\n1767225600,BTC/USDT,1\n1767225601,BTC/USDT,lots\n")
    return {"missing": tmp_path / "nope.csv", "bad": bad, "history": history}


class Running:
    """`impressox sources run ...` in the background, stopped by a signal."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "impressox", "sources", "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        stdout, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stdout, stderr


@pytest.fixture
def running(env: dict[str, str]) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.communicate()


def test_list_shows_every_source_and_what_up_starts(cli: Cli, env: dict[str, str]) -> None:
    table = cli("sources", "list")
    assert table.returncode == 0, table.stderr
    for name in ("simulator", "exchange", "coingecko", "replay", "SIMULATED"):
        assert name in table.stdout
    assert max(map(len, table.stdout.splitlines())) <= 80  # a terminal's width, not 160
    assert "…" not in table.stdout
    rows = {row["name"]: row for row in json_lines(cli("sources", "list", "--json").stdout)}
    assert list(rows) == [
        "simulator",
        "exchange",
        "coingecko",
        "replay",
        "x",
        "rss",
        "posts-import",
    ]
    assert [name for name, row in rows.items() if row["simulated"]] == ["simulator"]
    assert [name for name, row in rows.items() if row["started_by_up"]] == [
        "simulator",
        "posts-import",
    ]
    other = run_cli({**env, "IMPRESSOX_SOURCES": '["coingecko"]'}, "sources", "list", "--json")
    assert [row["name"] for row in json_lines(other.stdout) if row["started_by_up"]] == [
        "coingecko"
    ]


async def test_a_replayed_file_is_appended_once(cli: Cli, history: Path, store: EventStore) -> None:
    first = await asyncio.to_thread(
        cli, "sources", "run", "replay", "--file", str(history), "--speed", "max"
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "source": "replay",
        "venues": ["replay"],
        "simulated": False,
        "ticks": 3,
        "new": 3,
        "duplicates": 0,
        "stale_events": 0,
    }
    again = await asyncio.to_thread(
        cli, "sources", "run", "replay", "--file", str(history), "--speed", "max"
    )
    assert json.loads(again.stdout)["duplicates"] == 3
    ticks = await stored_ticks(store)
    assert sorted((t.symbol, t.price) for t in ticks) == [
        ("BTC/USDT", 100000.0),
        ("BTC/USDT", 100010.0),
        ("ETH/USDT", 3500.0),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sources", "run", "nasdaq"], "error: no price source 'nasdaq' (there are: simulator,"),
        (["sources", "run", "replay"], "error: the replay source needs a file"),
        (["sources", "run", "replay", "--file", "{missing}"], "cannot read: No such file"),
        (["sources", "run", "replay", "--file", "{bad}"], "bad.csv, line 3: price: Input should"),
        (
            ["sources", "run", "replay", "--file", "{history}", "--speed", "fast"],
            "error: invalid replay speed 'fast'",
        ),
        (
            ["sources", "run", "simulator", "--file", "{history}"],
            "error: --file does not apply to the simulator source",
        ),
        (
            ["sources", "run", "simulator", "--symbol", "bitcoin"],
            "error: invalid simulator symbol 'bitcoin'",
        ),
        (
            ["sources", "run", "exchange", "--exchange", "binanse"],
            "error: ccxt has no exchange 'binanse' (did you mean",
        ),
    ],
)
async def test_bad_input_exits_2_with_one_line_and_appends_nothing(
    cli: Cli, store: EventStore, paths: dict[str, Path], args: list[str], message: str
) -> None:
    result = await asyncio.to_thread(cli, *(arg.format(**paths) for arg in args))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert await stored_ticks(store) == []


async def test_the_simulator_runs_until_sigterm_and_says_it_is_simulated(
    env: dict[str, str], running: list[Running], store: EventStore
) -> None:
    process = Running(env, "simulator", "--rate", "20", "--seed", "5", "--symbol", "BTC/USDT")
    running.append(process)
    await wait_until(lambda: _ticks_at_least(store, 5))
    code, stdout, _ = await asyncio.to_thread(process.stop)
    assert code == 0
    summary = json.loads(stdout)
    assert summary["simulated"] is True
    ticks = await stored_ticks(store)
    assert summary["new"] == len(ticks) >= 5
    assert {(t.symbol, t.venue, t.simulated) for t in ticks} == {("BTC/USDT", "simulator", True)}


async def test_a_restarted_simulator_goes_on_from_its_last_price_unless_seeded(
    env: dict[str, str], running: list[Running], store: EventStore
) -> None:
    """Issue 12: every restart walked the same path from the same start price."""

    async def run_until(count: int, *args: str, **extra: str) -> list[PriceTick]:
        process = Running(
            {**env, **extra}, "simulator", "--rate", "20", "--symbol", "BTC/USDT", *args
        )
        running.append(process)
        await wait_until(lambda: _ticks_at_least(store, count))
        code, _, stderr = await asyncio.to_thread(process.stop)
        assert code == 0, stderr
        return await stored_ticks(store)

    first = await run_until(3, IMPRESSOX_SIMULATOR_START_PRICES='{"BTC/USDT": 50000}')
    assert first[0].price == pytest.approx(50_000, rel=0.01)
    resumed = await run_until(len(first) + 3)
    assert resumed[len(first)].price == pytest.approx(first[-1].price, rel=0.01)
    seeded = await run_until(len(resumed) + 3, "--seed", "5")
    assert seeded[len(resumed)].price == pytest.approx(100_000, rel=0.01)  # its start price


async def test_an_exchange_is_polled_and_an_unlisted_symbol_is_reported_once(
    env: dict[str, str], running: list[Running], store: EventStore
) -> None:
    fake = FakeBinance()
    with serving(fake.app()) as url:
        exchange_env = {
            **env,
            "IMPRESSOX_EXCHANGE_API_URLS": json.dumps({"public": f"{url}/api/v3"}),
            "IMPRESSOX_EXCHANGE_OPTIONS": json.dumps({"fetchMarkets": {"types": ["spot"]}}),
        }
        process = Running(
            exchange_env,
            "exchange",
            "--poll",
            "--poll-interval",
            "0.1",
            "--symbol",
            "BTC/USDT",
            "--symbol",
            "FOO/USDT",
        )
        running.append(process)
        await wait_until(lambda: _ticks_at_least(store, 3))
        code, stdout, stderr = await asyncio.to_thread(process.stop, signal.SIGINT)
    assert code == 0, stderr
    assert json.loads(stdout)["venues"] == ["binance"]
    reports = [line for line in stderr.splitlines() if "FOO/USDT" in line]
    assert len(reports) == 1, stderr
    assert json.loads(reports[0])["event"] == "symbol not listed on the exchange; dropped"
    assert {t.symbol for t in await stored_ticks(store)} == {"BTC/USDT"}


async def test_coingecko_is_polled_at_its_base_url(
    env: dict[str, str], running: list[Running], store: EventStore
) -> None:
    fake = FakeCoinGecko()
    with serving(fake.app()) as url:
        coingecko_env = {
            **env,
            "IMPRESSOX_COINGECKO_BASE_URL": f"{url}/api/v3",
            "IMPRESSOX_COINGECKO_COINS": json.dumps({"bitcoin": "BTC/USD"}),
            "IMPRESSOX_COINGECKO_API_KEY": "CG-test-key",
        }
        process = Running(coingecko_env, "coingecko", "--poll-interval", "0.1")
        running.append(process)
        await wait_until(lambda: _ticks_at_least(store, 2))
        code, _, stderr = await asyncio.to_thread(process.stop)
    assert code == 0, stderr
    assert "CG-test-key" not in stderr
    assert fake.answered[0]["x-cg-demo-api-key"] == "CG-test-key"
    assert {(t.symbol, t.venue) for t in await stored_ticks(store)} == {("BTC/USD", "coingecko")}


async def _ticks_at_least(store: EventStore, count: int) -> bool:
    return len(await stored_ticks(store)) >= count
