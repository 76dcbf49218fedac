"""Crash test: worker processes SIGKILLed mid-batch, and every event counted at the end."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from pathlib import Path

import pytest

from events.names import StreamNames
from events.store import EventStore
from impressox.embedded.process import ChildProcess
from tests.factories import ping
from tests.handlers.support import pending_count
from tests.polling import wait_until

REPO = Path(__file__).resolve().parents[2]
EVENTS = 100_000
WORKERS = 3
KILLS = 10


def worker_process(index: int, redis_url: str, prefix: str, logs: Path) -> ChildProcess:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        PYTHONPATH=str(REPO),
        IMPRESSOX_STREAM_PREFIX=prefix,
        IMPRESSOX_MODULES=json.dumps(["tests.handlers.crash_handlers"]),
        IMPRESSOX_LEASE_TTL_MS="1500",
        IMPRESSOX_BLOCK_MS="200",
        IMPRESSOX_BATCH_SIZE="200",
        IMPRESSOX_LOG_LEVEL="WARNING",
        IMPRESSOX_LOG_FORMAT="json",
    )
    return ChildProcess(
        f"worker-{index}",
        [sys.executable, "-m", "impressox", "worker", "copier"],
        log_path=logs / f"worker-{index}.log",
        env=env,
        cwd=REPO,
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_every_input_has_exactly_one_output_after_ten_kills(
    store: EventStore, names: StreamNames, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    rng = random.Random(20261121)
    workers = [worker_process(i, redis_url, prefix, tmp_path) for i in range(WORKERS)]
    for worker in workers:
        worker.start()
    inputs = [ping(n, key=f"key-{n % 97}") for n in range(EVENTS)]

    async def produce() -> None:
        for start in range(0, EVENTS, 5000):
            await store.append_many("pings", inputs[start : start + 5000])
            await asyncio.sleep(0.25)

    progress_at_kills: list[int] = []

    async def kill_randomly() -> int:
        kills = 0
        while kills < KILLS:
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            victim = rng.choice(workers)
            if victim.process is None or not victim.running():
                continue
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            progress_at_kills.append(await _outputs(store))
            kills += 1
            victim.start()
        return kills

    producer = asyncio.create_task(produce())
    kills = await kill_randomly()
    await producer
    try:
        await wait_until(lambda: _all_out(store), within=240)
        await wait_until(lambda: _nothing_pending(store, names), within=60)
    finally:
        for worker in workers:
            worker.stop()

    causes = [r.event.causation_id async for r in store.read_category("pongs")]
    assert kills == KILLS
    assert sum(1 for done in progress_at_kills if done < EVENTS) >= KILLS // 2, progress_at_kills
    assert len(causes) == EVENTS, "an input got more than one output, or none"
    assert set(causes) == {event.event_id for event in inputs}
    for worker in workers:
        assert "Traceback" not in worker.log_tail(200), worker.log_tail(40)


async def _outputs(store: EventStore) -> int:
    return sum([await store.redis.xlen(stream) for stream in store.names.category_streams("pongs")])


async def _all_out(store: EventStore) -> bool:
    return await _outputs(store) >= EVENTS


async def _nothing_pending(store: EventStore, names: StreamNames) -> bool:
    return await pending_count(store, names, "pings", "copier") == 0
