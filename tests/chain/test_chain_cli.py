"""`impressox chain ...` as real processes: bad input refused, backfill exactly once,
status, ABIs, and a watcher SIGKILLed again and again that loses and doubles nothing."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from aggregates.services.bundle import Services
from chain.deployments import ChainDeployment
from chain.journal import ChainJournal
from events.store import EventStore
from impressox.embedded.chain import LOCAL_CHAIN_ID
from impressox.embedded.process import free_port
from tests.chain.conftest import account, swap_eth_for_usd
from tests.chain.watching import (
    by_type,
    canonical_logs,
    check_pairs,
    duplicates,
    key_of,
    native_keys,
    rpc,
    signed_payment,
    watch_wallet,
)
from tests.impressox.cli_support import REPO, cli_env, json_lines, run_cli
from tests.polling import wait_until


@pytest.fixture
def env(
    tmp_path: Path, redis_url: str, prefix: str, chain_url: str, deployments_file: Path
) -> dict[str, str]:
    return cli_env(
        tmp_path,
        REDIS_URL=redis_url,
        IMPRESSOX_STREAM_PREFIX=prefix,
        CHAIN_RPC_URL=chain_url,
        IMPRESSOX_CHAIN_DEPLOYMENTS=str(deployments_file),
        IMPRESSOX_CHAIN_POLL_INTERVAL_S="0.05",
        IMPRESSOX_LEASE_TTL_MS="1000",
    )


def refused(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The one line a refused command printed."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "variables", "says"),
    [
        (["status"], {"CHAIN_RPC_URL": ""}, "no chain to watch: set CHAIN_RPC_URL"),
        (["status"], {"CHAIN_RPC_URL": "ws://127.0.0.1:1"}, "ws:// is not supported"),
        (
            ["status"],
            {"IMPRESSOX_CHAIN_CONFIRMATIONS": '{"1": 12}'},
            "chain 31337 has no confirmations set: add it to IMPRESSOX_CHAIN_CONFIRMATIONS",
        ),
        (["backfill", "--from", "9", "--to", "3"], {}, "--from 9 is after --to 3"),
        (["backfill", "--from", "0", "--to", "99999999"], {}, "block 99999999 is not confirmed"),
        (
            ["backfill", "--from", "0", "--wallet", "0x12345"],
            {},
            "--wallet 0x12345: an EVM address is 0x followed by 40 hexadecimal digits",
        ),
    ],
)
def test_bad_input_is_refused_with_one_line(
    env: dict[str, str], args: list[str], variables: dict[str, str], says: str
) -> None:
    environment = {**env, **variables}
    if environment["CHAIN_RPC_URL"] == "":
        del environment["CHAIN_RPC_URL"]
    assert says in refused(run_cli(environment, "chain", *args))


def test_an_unreachable_node_is_an_infrastructure_error(env: dict[str, str]) -> None:
    dead = {**env, "CHAIN_RPC_URL": f"http://127.0.0.1:{free_port()}"}
    assert "no chain node answers eth_chainId" in refused(run_cli(dead, "chain", "status"), 1)


def test_an_abi_is_checked_whole_then_registered_once(env: dict[str, str], tmp_path: Path) -> None:
    address = "0x" + "12" * 20
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"type": "function", "name": "f"}]))
    assert "declares no event" in refused(run_cli(env, "chain", "abi", address, str(bad)))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([{"type": "event", "name": "E", "inputs": [{"type": "uint7"}]}]))
    assert "'uint7' is not an ABI type" in refused(
        run_cli(env, "chain", "abi", address, str(wrong))
    )
    good = tmp_path / "good.json"
    good.write_text((REPO / "chain" / "abi" / "MinimalPool.json").read_text())  # an export
    first, again = (run_cli(env, "chain", "abi", address, str(good)) for _ in range(2))
    assert first.returncode == again.returncode == 0, first.stderr
    (registered,), (repeated,) = json_lines(first.stdout), json_lines(again.stdout)
    assert (registered["duplicate"], repeated["duplicate"]) == (False, True)
    assert registered["address"] == address


async def test_backfill_appends_each_event_once_however_often_it_runs(
    env: dict[str, str], store: EventStore, w3: Web3, deployment: ChainDeployment
) -> None:
    trader = account(w3, 4)
    first = w3.eth.block_number + 1
    swap_eth_for_usd(w3, deployment, trader, 10**17)
    swap_eth_for_usd(w3, deployment, trader, 10**17)
    rpc(w3, "evm_mine")
    last = w3.eth.block_number - 1  # confirmed with the default 2 confirmations
    args = ["chain", "backfill", "--from", str(first), "--wallet", trader]
    done = run_cli(env, *args)
    assert done.returncode == 0, done.stderr
    (summary,) = json_lines(done.stdout)
    again = run_cli(env, *args, "--to", str(last))
    (repeat,) = json_lines(again.stdout)
    assert summary["to"] == last
    assert summary["appended"] == 2 * summary["logs"] > 0
    assert repeat["appended"] == 0

    events = [r.event async for r in store.read_stream(store.names.chain_journal())]
    confirmed = [key_of(e) for e in by_type(events, "chain.confirmed")]
    assert duplicates(confirmed) == []
    wallet_logs = canonical_logs(w3, deployment, [trader], first, last) - canonical_logs(
        w3, deployment, [], first, last
    )
    assert set(confirmed) >= wallet_logs
    assert all(key[0] for key in confirmed)

    status = run_cli(env, "chain", "status", "--json")
    (shown,) = json_lines(status.stdout)
    assert shown["chain_id"] == LOCAL_CHAIN_ID
    assert shown["cursor"] is None  # backfill moves no watcher's cursor
    assert shown["journal_events"] == len(events)
    assert shown["ours"] == len(deployment.contracts) - 1
    alone = run_cli(env, "chain", "status", "--check")
    assert (alone.returncode, alone.stdout.strip()) == (1, "chain 31337: no watcher")


def start_watcher(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "impressox", "chain", "watch", *args],
            env=env,
            cwd=REPO,
            stdout=output,
            stderr=output,
        )


@pytest.mark.slow
@pytest.mark.timeout(300)  # many processes; over a minute when the suite runs in four
async def test_a_watcher_killed_again_and_again_resumes_with_nothing_lost_or_doubled(
    env: dict[str, str],
    store: EventStore,
    w3: Web3,
    deployment: ChainDeployment,
    services: Services,
    *,
    tmp_path: Path,
) -> None:
    """Swaps and payments keep coming (on a thread) while the watcher, a real `impressox
    chain watch`, is SIGKILLed six times, each time once it has read a few blocks more."""
    watcher_log = tmp_path / "watcher.log"
    trader, payer = account(w3, 3), account(w3, 2)
    await watch_wallet(services, trader)
    journal = ChainJournal(store, LOCAL_CHAIN_ID)
    first = w3.eth.block_number + 1
    rng = random.Random(16)

    killing = threading.Event()

    def activity() -> int:
        """Rounds of a swap and a payment, until the killing is over (six at least)."""
        rounds = 0
        while rounds < 6 or not killing.is_set():
            swap_eth_for_usd(w3, deployment, trader, 10**16)
            signed_payment(w3, payer, trader, 10**15)
            rounds += 1
        return rounds

    async def cursor_number() -> int:
        cursor = (await journal.load()).cursor
        return -1 if cursor is None else cursor.number

    process = start_watcher(env, watcher_log, "--from", str(first))
    producing = asyncio.create_task(asyncio.to_thread(activity))
    kills = 0
    try:
        while kills < 6:
            reached = await cursor_number()

            async def working(since: int = reached) -> bool:
                return await cursor_number() >= since + 3

            await wait_until(working, 60)  # started, and reading blocks
            await asyncio.sleep(rng.uniform(0.0, 0.2))
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            kills += 1
            process = start_watcher(env, watcher_log)
        killing.set()
        rounds = await producing
        head = w3.eth.block_number
        rpc(w3, "evm_mine")  # confirms the head (2 confirmations)

        async def confirmed() -> bool:
            cursor = (await journal.load()).cursor
            return cursor is not None and cursor.confirmed >= head

        await wait_until(confirmed, 60)
        alive = run_cli(env, "chain", "status", "--check")
        assert alive.returncode == 0, alive.stderr
        assert alive.stdout.startswith("chain 31337: followed by chain.31337@")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, f"see {watcher_log}"
    events = [r.event async for r in store.read_stream(journal.journal)]
    observed = by_type(events, "chain.observed")
    assert duplicates([e.event_id for e in events]) == []
    assert check_pairs(events) == []
    confirmed_events = by_type(events, "chain.confirmed")
    assert len(confirmed_events) == len(observed)
    records: list[Any] = [e.payload.record for e in confirmed_events]  # type: ignore[attr-defined]
    logs = [key_of(e) for e, r in zip(confirmed_events, records, strict=True) if not r.native]
    assert set(logs) == canonical_logs(w3, deployment, [trader], first, head)
    natives = {(r.block_hash, r.tx_hash) for r in records if r.native}
    assert natives == native_keys(w3, {trader.lower()}, first, head)
    assert len(natives) == rounds
