"""Running a chain watcher in a test, and checking what it wrote against the chain.

`watching` runs a `ChainWatcher` on the session's anvil, from the block after the current
head (so a test reads only its own activity), with fast polls; `Watching` waits for it
to reach a block and reads its journal. `canonical_logs` is the other side of every
reorg test: one `eth_getLogs` per filter over the final chain, which the confirmed
events must equal exactly.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from eth_typing import HexStr
from web3 import Web3
from web3.types import RPCEndpoint

from aggregates.services.bundle import Services
from chain.abis import Decoders
from chain.artifacts import load_artifact
from chain.blocks import topic_of_address
from chain.deploy import ROUTER_IMPLEMENTATION
from chain.deployments import ChainDeployment
from chain.journal import ChainJournal, Cursor
from chain.queries import TRANSFER_TOPIC
from chain.rpc import ChainRpc
from chain.usd_prices import UsdPriceBook
from chain.watcher import ChainWatcher, WatcherConfig
from chain.watchset import WatchSet
from events.catalog import ChainEventConfirmed, ChainEventObserved, ChainEventRetracted
from events.envelope import Event
from events.store import EventStore
from impressox.embedded.chain import LOCAL_CHAIN_ID
from tests.handlers.support import wait_until

LogKey = tuple[str, str, int]
"""(block hash, transaction hash, log index) of one log, all lowercase."""


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), list(params))
    assert "error" not in response, response
    return response["result"]


def ours(deployment: ChainDeployment) -> dict[str, Any]:
    """Our contracts as the watcher takes them: address -> ABI, the proxy's not twice."""
    return {
        contract.address.lower(): load_artifact(contract.abi).abi
        for name, contract in deployment.contracts.items()
        if name != ROUTER_IMPLEMENTATION
    }


@dataclass
class Watching:
    store: EventStore
    journal: ChainJournal
    watcher: ChainWatcher
    task: asyncio.Task[None]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    failure_seen: bool = False
    """The test met the watcher's failure already (through `reaches`)."""

    async def cursor(self) -> Cursor | None:
        return (await self.journal.load()).cursor

    async def reaches(self, w3: Web3, *, within: float = 30) -> None:
        """Wait until the watcher has read up to the node's head now."""
        await self._until(w3.eth.block_number, confirmed=False, within=within)

    async def settles(self, w3: Web3, *, within: float = 30) -> None:
        """Mine the blocks that confirm the head now, and wait until they have."""
        head = w3.eth.block_number
        for _ in range(self.watcher.config.confirmations - 1):
            rpc(w3, "evm_mine")
        await self._until(head, confirmed=True, within=within)

    async def _until(self, block: int, *, confirmed: bool, within: float) -> None:
        async def there() -> bool:
            if self.task.done():
                self.failure_seen = self.task.exception() is not None
                self.task.result()  # a watcher that died says why
            cursor = await self.cursor()
            if cursor is None:
                return False
            return (cursor.confirmed if confirmed else cursor.number) >= block

        await wait_until(there, within)

    async def events(self) -> list[Event]:
        return [
            recorded.event
            async for recorded in self.store.read_stream(self.journal.journal, strict=True)
        ]


@asynccontextmanager
async def watching(
    store: EventStore,
    w3: Web3,
    chain_url: str,
    deployment: ChainDeployment,
    *,
    confirmations: int = 2,
    depth: int = 8,
    start_block: int | None = None,
    urls: Sequence[str] | None = None,
    range_blocks: int = 2_000,
    timeout_s: float = 5.0,
    prices: UsdPriceBook | None = None,
) -> AsyncIterator[Watching]:
    node = ChainRpc(list(urls or [chain_url]), timeout_s=timeout_s)
    await node.connect(LOCAL_CHAIN_ID)
    journal = ChainJournal(store, LOCAL_CHAIN_ID)
    mine = ours(deployment)
    watcher = ChainWatcher(
        node,
        journal,
        WatchSet(store, fixed_contracts=frozenset(mine)),
        Decoders(store, LOCAL_CHAIN_ID, mine),
        WatcherConfig(
            confirmations=confirmations,
            reorg_depth=depth,
            poll_interval_s=0.02,
            start_block=w3.eth.block_number + 1 if start_block is None else start_block,
            range_blocks=range_blocks,
            lease_ttl_ms=3_000,
        ),
        prices=prices,
    )
    stop = asyncio.Event()
    run = Watching(store, journal, watcher, asyncio.create_task(watcher.run(stop)), stop)
    try:
        yield run
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.gather(run.task, return_exceptions=run.failure_seen), 30)
        finally:
            await node.aclose()


def filters(deployment: ChainDeployment, wallets: Sequence[str]) -> list[dict[str, Any]]:
    """What the watcher asks for, spelled independently: our contracts, and transfers
    from or to the wallets."""
    topics = [topic_of_address(wallet) for wallet in wallets]
    found: list[dict[str, Any]] = [
        {"address": [Web3.to_checksum_address(a) for a in ours(deployment)]}
    ]
    if topics:
        found += [{"topics": [TRANSFER_TOPIC, topics]}, {"topics": [TRANSFER_TOPIC, None, topics]}]
    return found


def canonical_logs(
    w3: Web3, deployment: ChainDeployment, wallets: Sequence[str], first: int, last: int
) -> set[LogKey]:
    """Every log of the final chain the watcher should have confirmed in `first..last`."""
    keys: set[LogKey] = set()
    for query in filters(deployment, wallets):
        for log in w3.eth.get_logs({**query, "fromBlock": first, "toBlock": last}):  # type: ignore[typeddict-item]
            keys.add(
                (log["blockHash"].to_0x_hex(), log["transactionHash"].to_0x_hex(), log["logIndex"])
            )
    return keys


def key_of(event: Event) -> LogKey:
    payload = event.payload
    assert isinstance(payload, ChainEventObserved | ChainEventConfirmed | ChainEventRetracted)
    record = payload.record
    assert record.log_index is not None
    return (record.block_hash, record.tx_hash, record.log_index)


def by_type(events: Sequence[Event], name: str) -> list[Event]:
    return [event for event in events if event.type == name]


def duplicates(keys: Sequence[Any]) -> list[Any]:
    return [key for key, count in Counter(keys).items() if count > 1]


async def watch_wallet(services: Services, wallet: str) -> None:
    """A user (a new one) watches `wallet`, through the Watches application."""
    await asyncio.to_thread(services.watches.watch_wallet, uuid4(), wallet)


def signed_payment(w3: Web3, sender: str, recipient: str, value: int) -> str:
    """A transfer signed by the node for its unlocked `sender`, sent, its raw bytes kept
    so that a reorg can include the very same transaction in another block."""
    transaction = {"from": sender, "to": recipient, "value": value, "gas": 21_000}
    transaction["nonce"] = w3.eth.get_transaction_count(sender)  # type: ignore[arg-type]
    transaction["gasPrice"] = w3.eth.gas_price
    transaction["chainId"] = LOCAL_CHAIN_ID
    as_json = {k: hex(v) if isinstance(v, int) else v for k, v in transaction.items()}
    signed: str = rpc(w3, "eth_signTransaction", as_json)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(HexStr(signed)))
    return signed


def native_keys(w3: Web3, wallets: set[str], first: int, last: int) -> set[tuple[str, str]]:
    """(block hash, transaction hash) of every successful value transfer of the wallets."""
    found = set()
    for number in range(first, last + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            assert not isinstance(tx, bytes)
            parties = {tx["from"].lower(), (tx["to"] or "").lower()}
            if not (tx["value"] and parties & wallets):
                continue
            if w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1:
                found.add((block["hash"].to_0x_hex(), tx["hash"].to_0x_hex()))
    return found


def check_pairs(events: list[Event]) -> list[Event]:
    """Every retraction names an observation made before it, each retracted once; the
    retractions are returned."""
    observed: set[UUID] = set()
    retracted: list[UUID] = []
    for event in events:
        payload = event.payload
        if isinstance(payload, ChainEventObserved):
            observed.add(event.event_id)
        elif isinstance(payload, ChainEventRetracted):
            assert payload.observation_id in observed, "a retraction without its observation"
            retracted.append(payload.observation_id)
    assert duplicates(retracted) == []
    return by_type(events, "chain.retracted")
