"""Chain reads: a wallet's activity and a transaction's events with their confirmation
state, over HTTP from the read models and live over /v1/ws (``chain:<address>``).

Events are the chain watcher's own (`chain.observations`), appended to the `chain`
category as the `chain-partitioner` does; the watcher itself is tested on anvil in
`tests/chain`.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from chain.observations import Observation, observation_id
from events.catalog import ChainRecord, ValueTransfer
from events.envelope import Event
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.settings import Settings
from tests.api.conftest import bearer
from tests.api.live_server import LiveServer
from tests.api.test_websocket import client, events, subscribe

Key = tuple[UUID, str]
ALICE, BOB, CAROL = ("0x" + c * 40 for c in "abc")
TOKEN, ROUTER = "0x" + "d" * 40, "0x" + "e" * 40
BLOCK_A, BLOCK_B = "0x" + "1" * 64, "0x" + "2" * 64
TX_NATIVE, TX_TOKEN, TX_SWAP = (f"0x{n:064x}" for n in (1, 2, 3))


def observation(record: ChainRecord) -> Observation:
    return Observation(
        observation_id(1, record.block_hash, record.tx_hash, record.log_index), record
    )


def transfer(tx: str, block: str, log_index: int | None, sender: str, recipient: str) -> Any:
    native = log_index is None
    return observation(
        ChainRecord(
            chain_id=1,
            block_number=10 if block == BLOCK_A else 11,
            block_hash=block,
            tx_hash=tx,
            log_index=log_index,
            address=None if native else TOKEN,
            event="" if native else "Transfer",
            args={} if native else {"from": sender, "to": recipient, "value": 5 * 10**6},
            transfer=ValueTransfer(
                token=None if native else TOKEN,
                symbol="ETH" if native else "USDC",
                sender=sender,
                recipient=recipient,
                raw_amount=str(2 * 10**18 if native else 5 * 10**6),
                decimals=18 if native else 6,
                amount=2.0 if native else 5.0,
                usd_value=7000.0 if native else 5.0,
            ),
        )
    )


def append(redis_url: str, settings: Settings, events: list[Event]) -> list[str]:
    async def write() -> list[str]:
        redis = await connect_redis(redis_url)
        try:
            results = await EventStore(redis, settings.stream_names()).append_batch("chain", events)
        finally:
            await redis.aclose()
        return sorted({r.stream: f"{r.stream}@{r.position}" for r in results}.values())

    return asyncio.run(write())


def get(client: TestClient, key: Key, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=bearer(key[1]))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_wallets_activity_and_a_transaction_show_their_confirmation_state(
    client: TestClient, user: Key, settings: Settings, redis_url: str
) -> None:
    paid = transfer(TX_NATIVE, BLOCK_A, None, ALICE, BOB)  # confirmed
    sent = transfer(TX_TOKEN, BLOCK_B, 0, BOB, CAROL)  # observed, then a reorg removed it
    fee = observation(
        ChainRecord(
            chain_id=1,
            block_number=10,
            block_hash=BLOCK_A,
            tx_hash=TX_SWAP,
            log_index=3,
            address=ROUTER,
            event="FeeCollected",
            args={"payer": ALICE, "token": TOKEN, "amount": 30},
        )
    )
    after = append(
        redis_url,
        settings,
        [
            paid.observed(),
            sent.observed(),
            fee.observed(),
            paid.confirmed(2),
            fee.confirmed(2),
            sent.retracted(9, after_confirmation=False),
        ],
    )
    path = f"/v1/chain/wallets/{BOB.upper().replace('0X', '0x')}/activity"
    (shown,) = get(client, user, path, after=after)["items"]
    assert shown["direction"] == "in"
    assert shown["counterparty"] == ALICE
    assert (shown["symbol"], shown["amount"], shown["usd_value"]) == ("ETH", 2.0, 7000.0)
    assert shown["status"] == "confirmed"
    assert shown["log_index"] is None
    everything = get(client, user, path, include_retracted="true")["items"]
    assert [(t["tx_hash"], t["direction"], t["status"]) for t in everything] == [
        (TX_TOKEN, "out", "retracted"),
        (TX_NATIVE, "in", "confirmed"),
    ]
    carol = get(client, user, f"/v1/chain/wallets/{CAROL}/activity", status="retracted")
    assert [t["direction"] for t in carol["items"]] == ["in"]

    swap = get(client, user, f"/v1/chain/transactions/{TX_SWAP}")
    assert [(log["event"], log["status"]) for log in swap["logs"]] == [
        ("FeeCollected", "confirmed")
    ]
    assert swap["logs"][0]["args"]["amount"] == 30
    payment = get(client, user, f"/v1/chain/transactions/{TX_NATIVE}")
    assert sorted(t["wallet"] for t in payment["transfers"]) == [ALICE, BOB]

    bad = client.get("/v1/chain/wallets/0x12/activity", headers=bearer(user[1]))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "path.address"


async def test_a_wallets_chain_events_arrive_live(
    live: LiveServer, user: Key, store: EventStore
) -> None:
    paid = transfer(TX_NATIVE, BLOCK_A, None, ALICE, BOB)
    other = transfer(TX_TOKEN, BLOCK_B, 0, ALICE, CAROL)
    async with client(live.url, user[1]) as socket:
        await subscribe(socket, f"chain:{BOB}")
        await store.append_batch("chain", [paid.observed(), other.observed(), paid.confirmed(2)])
        received = await events(socket, 2)
    assert [message["event"]["type"] for message in received] == [
        "chain.observed",
        "chain.confirmed",
    ]
    assert {message["event"]["payload"]["record"]["tx_hash"] for message in received} == {TX_NATIVE}
