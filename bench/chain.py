"""Benchmark: the chain watcher against a local anvil.

    python -m bench.chain --json [--quick]

Every part runs a local anvil keeping its chain in memory (what is measured is the watcher,
not anvil's state dumps, which grow with every block).

- ``backfill_logs_per_s``: 100,000 ERC-20 `Transfer` logs over 10,000 blocks (10,000
  over 1,000 with ``--quick``), read in ranges by the backfill and appended as events
  (observed and confirmed: two per log, exactly once); ``baseline_logs_per_s``: a plain
  web3 loop over the same ranges (`AsyncWeb3.eth.get_logs` and the contract event's
  `process_log`), appending nothing; ``backfill_ratio`` = backfill / baseline. Both read
  2,000-block ranges; three rounds, interleaved, medians (one with ``--quick``).
- ``confirm_p50_ms`` / ``confirm_p99_ms``: a real `impressox chain watch` process (2
  confirmations, polls every 20 ms once a block is due) follows blocks mined 100-400 ms
  apart; from the moment the block that makes a block 2 deep was mined (its transaction
  returned) to the moment its events' `chain.confirmed` were appended (their stream
  position's time).
- ``alert_p50_ms`` / ``alert_p99_ms``: the same run, with a rule on the emitter and real
  `impressox worker chain-partitioner` and `impressox worker rules` processes: from each
  `chain.confirmed` appended by the watcher to its `alert.triggered`; the baseline,
  ``partition_p99_ms``, is the hop before the rule engine (the journal to the `chain`
  category), so the engine's own share is the difference. Redis stream times, ms
  resolution. The first confirmation's alerts wait for the engine to start (it reads the
  rules and their recent firings): ``alert_first_ms``, apart from the percentiles.
- ``rpc_calls_per_block``: steady state with 100 watched contracts (alert rules) and
  1,000 watched wallets (users' watches), on a chain mining a block a second, each with
  transfers of watched wallets; every JSON-RPC call the watcher made (empty polls
  included) per block, with the default poll interval; ``empty_polls_per_block`` says
  how many of those asked for a block not there yet.
- ``reorg_missed`` / ``reorg_duplicates``: 20 reorgs of depth 1-5 (`anvil_reorg`) under
  a watcher confirming at depth 6, then every confirmed event compared with one
  `eth_getLogs` over the final chain: logs it never confirmed, and logs confirmed twice
  or confirmed though not on the final chain.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aiohttp import ClientSession
from redis.asyncio import Redis
from web3 import AsyncWeb3, Web3
from web3.providers.rpc import AsyncHTTPProvider

from aggregates.services.bundle import Services
from bench.chain_support import Node, wait_for
from bench.common import (
    Result,
    arguments,
    forget,
    fresh_prefix,
    impressox_process,
    note,
    percentile_ms,
    quiet_logs,
    redis_server,
    report,
)
from chain.abis import STANDARD_ABIS, Decoders
from chain.backfill import backfill
from chain.journal import ChainJournal
from chain.observations import RecordBuilder
from chain.queries import LogQueries
from chain.ranges import RangeReader, RangeSizer
from chain.rpc import ChainRpc
from chain.tokens import TokenBook
from chain.watcher import ChainWatcher, WatcherConfig
from chain.watchset import WatchSet, fixed_targets
from events.catalog import AlertTriggered, ChainEventConfirmed
from events.store import EventStore
from impressox.embedded.chain import LOCAL_CHAIN_ID, EmbeddedChain
from impressox.services import build_services
from impressox.settings import Settings

RANGE = 2_000
LOGS_PER_BLOCK = 10
CONFIRMATIONS = 2

LABELS = {
    "backfill_logs_per_s": "backfill, logs appended as events per s",
    "baseline_logs_per_s": "plain web3 get_logs + decode, logs per s",
    "backfill_ratio": "backfill / plain web3",
    "backfill_logs": "logs in the backfill",
    "confirm_p50_ms": "mined -> confirmed appended p50, ms",
    "confirm_p99_ms": "mined -> confirmed appended p99, ms",
    "confirm_samples": "blocks timed",
    "alert_first_ms": "the first confirmation's alert (the rule engine starts), ms",
    "alert_p50_ms": "confirmed -> alert.triggered p50, ms",
    "alert_p99_ms": "confirmed -> alert.triggered p99, ms",
    "partition_p99_ms": "baseline: confirmed -> chain category p99, ms",
    "alert_samples": "alerts measured",
    "rpc_calls_per_block": "JSON-RPC calls per block, steady state",
    "empty_polls_per_block": "of which polls for a block not there yet",
    "steady_blocks": "blocks counted",
    "reorgs": "reorgs injected",
    "reorg_missed": "confirmed logs missed",
    "reorg_duplicates": "logs confirmed twice or wrongly",
    "reorg_retracted": "observations retracted",
}


@asynccontextmanager
async def local_chain(data_dir: Path, *, block_time_s: float | None = None) -> AsyncIterator[str]:
    node = EmbeddedChain(data_dir, block_time_s=block_time_s, state_interval_s=None)
    url = await asyncio.to_thread(node.start)
    try:
        yield url
    finally:
        await asyncio.to_thread(node.stop)


# -- backfill ---------------------------------------------------------------------------


async def plain_web3(url: str, emitter: str, first: int, last: int) -> tuple[int, float]:
    """The baseline: get_logs and decode every log, in the same ranges; nothing stored."""
    w3 = AsyncWeb3(AsyncHTTPProvider(url))
    address = Web3.to_checksum_address(emitter)
    transfer = w3.eth.contract(address=address, abi=STANDARD_ABIS[0]).events.Transfer()
    count = 0
    started = time.perf_counter()
    for start in range(first, last + 1, RANGE):
        logs = await w3.eth.get_logs(
            {"fromBlock": start, "toBlock": min(last, start + RANGE - 1), "address": address}
        )
        for log in logs:
            transfer.process_log(log)
            count += 1
    elapsed = time.perf_counter() - started
    await w3.provider.disconnect()
    return count, elapsed


async def watcher_backfill(
    redis_url: str, url: str, emitter: str, first: int, last: int
) -> tuple[int, float]:
    """`chain.backfill` of the emitter's logs into a fresh prefix; returns (logs, seconds)."""
    redis = Redis.from_url(redis_url)
    prefix = fresh_prefix("chain")
    store = EventStore(redis, Settings(stream_prefix=prefix).stream_names())
    rpc = ChainRpc([url])
    try:
        await rpc.connect(LOCAL_CHAIN_ID)
        journal = ChainJournal(store, LOCAL_CHAIN_ID)
        tokens = TokenBook(rpc, redis, journal.tokens_key)
        started = time.perf_counter()
        result = await backfill(
            reader=RangeReader(rpc, RangeSizer(RANGE)),
            journal=journal,
            builder=RecordBuilder(LOCAL_CHAIN_ID, Decoders(store, LOCAL_CHAIN_ID, {}), tokens),
            queries=LogQueries(fixed_targets(contracts=[emitter])),
            first=first,
            last=last,
            confirmations=CONFIRMATIONS,
        )
        elapsed = time.perf_counter() - started
        if result.new_events != 2 * result.logs:
            raise AssertionError(f"{result.new_events} events appended for {result.logs} logs")
        return result.logs, elapsed
    finally:
        await rpc.aclose()
        await forget(redis, prefix)
        await redis.aclose()


async def measure_backfill(redis_url: str, url: str, *, quick: bool) -> Result:
    total = 10_000 if quick else 100_000
    async with ClientSession() as session:
        node = Node(url, session)
        sender = (await node.accounts())[0]
        emitter = await node.deploy_emitter(sender)
        first = await node.head() + 1
        note(f"emitting {total:,} transfers over {total // LOGS_PER_BLOCK:,} blocks")
        await node.emit(sender, emitter, LOGS_PER_BLOCK, total // LOGS_PER_BLOCK)
        last = await node.head()
        await node.mine(CONFIRMATIONS)
    ours, plain = [], []
    for round_ in range(1 if quick else 3):
        logs, seconds = await plain_web3(url, emitter, first, last)
        plain.append(logs / seconds)
        stored, seconds = await watcher_backfill(redis_url, url, emitter, first, last)
        ours.append(stored / seconds)
        if logs != total or stored != total:
            raise AssertionError(f"read {logs:,} and stored {stored:,} of {total:,} logs")
        note(f"  round {round_ + 1}: backfill {ours[-1]:,.0f}/s, plain web3 {plain[-1]:,.0f}/s")
    backfill_rate, plain_rate = statistics.median(ours), statistics.median(plain)
    return {
        "backfill_logs_per_s": round(backfill_rate),
        "baseline_logs_per_s": round(plain_rate),
        "backfill_ratio": round(backfill_rate / plain_rate, 3),
        "backfill_logs": total,
    }


# -- confirmation latency ----------------------------------------------------------------


async def measure_confirm_latency(
    redis_url: str, url: str, data_dir: Path, *, quick: bool
) -> Result:
    samples = 40 if quick else 200
    settings = Settings(
        redis_url=redis_url,
        stream_prefix=fresh_prefix("chain"),
        data_dir=data_dir,
        secret_key=None,
    )
    services = build_services(settings, redis_url)
    redis = Redis.from_url(redis_url)
    journal = ChainJournal(EventStore(redis, settings.stream_names()), LOCAL_CHAIN_ID)
    rng = random.Random(16)
    async with ClientSession() as session:
        node = Node(url, session)
        sender = (await node.accounts())[1]
        emitter = await node.deploy_emitter(sender)
        services.alert_rules.create(
            uuid4(),
            {
                "target": {"kind": "chain", "contract": emitter},
                "condition": {"type": "transferred"},
                "frequency": {"kind": "every_time", "cooldown_s": 0},
                "channels": ["web"],
            },
        )
        watcher = impressox_process(
            "chain watch",
            ["chain", "watch"],
            settings,
            CHAIN_RPC_URL=url,
            IMPRESSOX_CHAIN_POLL_INTERVAL_S="0.02",
            IMPRESSOX_CHAIN_CONFIRMATIONS=f'{{"{LOCAL_CHAIN_ID}": {CONFIRMATIONS}}}',
        )
        workers = [
            impressox_process(f"worker {name}", ["worker", name], settings)
            for name in ("chain-partitioner", "rules")
        ]
        for process in (watcher, *workers):
            process.start()
        try:
            await wait_for(lambda: _has_cursor(journal), 60, "the watcher's first cursor")
            mined: dict[int, float] = {}
            for _ in range(samples + CONFIRMATIONS):
                await node.emit(sender, emitter, 3, 1)
                mined[await node.head()] = time.time()
                await asyncio.sleep(rng.uniform(0.1, 0.4))
            last = max(mined) - CONFIRMATIONS + 1  # the last block made deep enough
            await wait_for(lambda: _confirmed_through(journal, last), 60, "confirmations")
            await wait_for(lambda: _alerted(journal.store, samples), 60, "the alerts")
        finally:
            for process in (watcher, *workers):
                process.stop()
    alerting = await _alert_latencies(journal)
    appended: dict[int, float] = {}
    async for recorded in journal.store.read_stream(journal.journal, types=["chain.confirmed"]):
        payload = recorded.event.payload
        assert isinstance(payload, ChainEventConfirmed)
        number = payload.record.block_number
        appended.setdefault(number, recorded.position.ms / 1000)
    latencies = [
        int((appended[block] - mined[block + CONFIRMATIONS - 1]) * 1e9)
        for block in appended
        if block + CONFIRMATIONS - 1 in mined
    ]
    services.close()
    await forget(redis, settings.stream_prefix)
    await redis.aclose()
    return {
        "confirm_p50_ms": percentile_ms(latencies, 50),
        "confirm_p99_ms": percentile_ms(latencies, 99),
        "confirm_samples": len(latencies),
        **alerting,
    }


async def _alerted(store: EventStore, count: int) -> bool:
    total = 0
    for stream in store.names.category_streams("alerts"):
        total += await store.redis.xlen(stream)
    return total >= count


async def _alert_latencies(journal: ChainJournal) -> Result:
    """From each `chain.confirmed` appended by the watcher to its `alert.triggered`
    (`alert_p99_ms`), and, as the baseline, to its copy in the `chain` category, which
    the rules handler reads (`partition_p99_ms`): what the rule engine adds is the
    difference. Stream positions' times, all from the one Redis's clock."""
    store = journal.store
    confirmed = {
        recorded.event.event_id: recorded.position.ms
        async for recorded in store.read_stream(journal.journal, types=["chain.confirmed"])
    }
    partitioned: dict[UUID, int] = {}
    alerted: dict[UUID, int] = {}
    for stream in store.names.category_streams("chain"):
        async for recorded in store.read_stream(stream, types=["chain.confirmed"]):
            partitioned[recorded.event.event_id] = recorded.position.ms
    for stream in store.names.category_streams("alerts"):
        async for recorded in store.read_stream(stream, types=[AlertTriggered.event_type]):
            payload = recorded.event.payload
            assert isinstance(payload, AlertTriggered)
            alerted[payload.trigger_event_id] = recorded.position.ms
    first_block = min(confirmed.values())
    warmup = [i for i, ms in confirmed.items() if ms == first_block]  # the engine starts
    alerts = [
        (alerted[i] - ms) * 1_000_000
        for i, ms in confirmed.items()
        if i in alerted and i not in warmup
    ]
    copies = [(partitioned[i] - ms) * 1_000_000 for i, ms in confirmed.items() if i in partitioned]
    first = max((alerted[i] - confirmed[i] for i in warmup if i in alerted), default=0)
    return {
        "alert_first_ms": float(first),
        "alert_p50_ms": percentile_ms(alerts, 50),
        "alert_p99_ms": percentile_ms(alerts, 99),
        "partition_p99_ms": percentile_ms(copies, 99),
        "alert_samples": len(alerts),
    }


async def _has_cursor(journal: ChainJournal) -> bool:
    return (await journal.load()).cursor is not None


async def _confirmed_through(journal: ChainJournal, block: int) -> bool:
    cursor = (await journal.load()).cursor
    return cursor is not None and cursor.confirmed >= block


# -- steady-state cost ---------------------------------------------------------------------


async def measure_steady_state(redis_url: str, data_dir: Path, *, quick: bool) -> Result:
    """100 contracts and 1,000 wallets watched; a block a second with watched transfers."""
    blocks = 10 if quick else 60
    settings = Settings(redis_url=redis_url, stream_prefix=fresh_prefix("chain"), data_dir=data_dir)
    services = build_services(settings, redis_url)
    redis = Redis.from_url(redis_url)
    store = EventStore(redis, settings.stream_names())
    async with local_chain(data_dir / "steady", block_time_s=1) as url, ClientSession() as session:
        node = Node(url, session)
        sender = (await node.accounts())[2]
        emitter = await node.deploy_emitter(sender)
        contracts = [emitter] + [f"0x{n:040x}" for n in range(10**6, 10**6 + 99)]
        wallets = [sender] + [f"0x{n:040x}" for n in range(1, 1000)]  # 1..3 receive transfers
        await asyncio.to_thread(_watch, services, contracts, wallets)
        rpc = ChainRpc([url])
        await rpc.connect(LOCAL_CHAIN_ID)
        journal = ChainJournal(store, LOCAL_CHAIN_ID)
        watcher = ChainWatcher(
            rpc,
            journal,
            WatchSet(store),
            Decoders(store, LOCAL_CHAIN_ID, {}),
            WatcherConfig(confirmations=CONFIRMATIONS, start_block=await node.head() + 1),
        )
        stop = asyncio.Event()
        following = asyncio.create_task(watcher.run(stop))
        traffic = asyncio.create_task(_a_transfer_a_block(node, sender, emitter, stop))
        try:
            await wait_for(lambda: _has_cursor(journal), 30, "the watcher's start")
            await asyncio.sleep(3)  # a few blocks: the pacer learns the pace
            start_block = (await journal.load()).cursor.number  # type: ignore[union-attr]
            calls_before = Counter(rpc.calls)
            await wait_for(
                lambda: _read_through(journal, start_block + blocks), blocks * 3, "blocks"
            )
            calls = Counter(rpc.calls)
            calls.subtract(calls_before)
        finally:
            stop.set()
            await asyncio.gather(following, traffic)
            await rpc.aclose()
    services.close()
    await forget(redis, settings.stream_prefix)
    await redis.aclose()
    empty = calls["eth_getBlockByNumber"] - blocks
    note(f"  calls over {blocks} blocks: {dict(calls)}")
    return {
        "rpc_calls_per_block": round(sum(calls.values()) / blocks, 2),
        "empty_polls_per_block": round(empty / blocks, 2),
        "steady_blocks": blocks,
    }


def _watch(services: Services, contracts: list[str], wallets: list[str]) -> None:
    """A rule per contract; the wallets watched by 100 users, ten each (a Watch with a
    thousand wallets would be loaded a thousand times)."""
    owner = uuid4()
    for contract in contracts:
        target = {"kind": "chain", "contract": contract}
        services.alert_rules.create(
            owner, {"target": target, "condition": {"type": "transferred"}, "channels": ["web"]}
        )
    users = [uuid4() for _ in range(100)]
    for number, wallet in enumerate(wallets):
        services.watches.watch_wallet(users[number % len(users)], wallet)


async def _a_transfer_a_block(node: Node, sender: str, emitter: str, stop: asyncio.Event) -> None:
    """A transaction every half second: each block holds transfers to watched wallets."""
    transaction = {
        "from": sender,
        "to": emitter,
        "data": "0x" + (3).to_bytes(32).hex(),
        "gas": hex(200_000),
    }
    while not stop.is_set():
        await node.call("eth_sendTransaction", transaction)
        await asyncio.sleep(0.5)


async def _read_through(journal: ChainJournal, block: int) -> bool:
    cursor = (await journal.load()).cursor
    return cursor is not None and cursor.number >= block


# -- reorgs ------------------------------------------------------------------------------


async def measure_reorgs(redis_url: str, url: str, *, quick: bool) -> Result:
    reorgs = 5 if quick else 20
    rng = random.Random(20)
    redis = Redis.from_url(redis_url)
    prefix = fresh_prefix("chain")
    store = EventStore(redis, Settings(stream_prefix=prefix).stream_names())
    rpc = ChainRpc([url])
    await rpc.connect(LOCAL_CHAIN_ID)
    journal = ChainJournal(store, LOCAL_CHAIN_ID)
    async with ClientSession() as session:
        node = Node(url, session)
        sender = (await node.accounts())[3]
        emitter = await node.deploy_emitter(sender)
        first = await node.head() + 1
        watcher = ChainWatcher(
            rpc,
            journal,
            WatchSet(store, fixed_contracts=frozenset({emitter})),
            Decoders(store, LOCAL_CHAIN_ID, {}),
            WatcherConfig(confirmations=6, reorg_depth=12, poll_interval_s=0.02, start_block=first),
        )
        stop = asyncio.Event()
        following = asyncio.create_task(watcher.run(stop))
        try:
            for _ in range(reorgs):
                await node.emit(sender, emitter, 2, 3)
                head = await node.head()
                await wait_for(lambda h=head: _read_through(journal, h), 30, "reading")
                await node.call("anvil_reorg", rng.randint(1, 5), [])
                await node.mine()
                head = await node.head()
                await wait_for(lambda h=head: _read_through(journal, h), 30, "the reorg")
            await node.mine(6)
            last = await node.head() - 5
            await wait_for(lambda: _confirmed_through(journal, last), 30, "confirmations")
            canonical = await node.call(
                "eth_getLogs", {"fromBlock": hex(first), "toBlock": hex(last), "address": emitter}
            )
        finally:
            stop.set()
            await following
            await rpc.aclose()
    truth = {
        (log["blockHash"], log["transactionHash"], int(log["logIndex"], 16)) for log in canonical
    }
    confirmed: list[tuple[str, str, int | None]] = []
    retracted = 0
    async for recorded in store.read_stream(journal.journal):
        payload: Any = recorded.event.payload
        if recorded.event.type == "chain.confirmed":
            r = payload.record
            confirmed.append((r.block_hash, r.tx_hash, r.log_index))
        retracted += recorded.event.type == "chain.retracted"
    await forget(redis, prefix)
    await redis.aclose()
    twice = len(confirmed) - len(set(confirmed))
    return {
        "reorgs": reorgs,
        "reorg_missed": len(truth - set(confirmed)),
        "reorg_duplicates": twice + len(set(confirmed) - truth),
        "reorg_retracted": retracted,
    }


# -- the whole run -----------------------------------------------------------------------


async def measure(*, quick: bool) -> Result:
    with redis_server() as server, tempfile.TemporaryDirectory(prefix="bench-chain-") as tmp:
        data_dir = Path(tmp)
        async with local_chain(data_dir / "chain") as url:
            note("backfill")
            result = await measure_backfill(server.url, url, quick=quick)
            note("confirmation latency")
            result |= await measure_confirm_latency(server.url, url, data_dir, quick=quick)
            note("reorgs")
            result |= await measure_reorgs(server.url, url, quick=quick)
        note("steady state, a block a second")
        result |= await measure_steady_state(server.url, data_dir, quick=quick)
    return result


def main() -> None:
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    options = parser.parse_args()
    quiet_logs()
    report(asyncio.run(measure(quick=options.quick)), as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
