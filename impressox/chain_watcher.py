"""The chain watcher's parts, built from settings: what `impressox chain ...` runs.

`chain/` knows nothing of settings; this module reads them once: the nodes
(CHAIN_RPC_URL, their chain id checked), the chain's confirmations, our contracts on
that chain from the deployments file (always watched, decoded with our ABIs), and the
Redis store; and, where MONGO_URL is set, the price read models for transfers' USD
values. `serve_chain_watcher` runs the watcher until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property

import structlog
from eth_typing import ABI

from chain.abis import Decoders
from chain.artifacts import load_artifact
from chain.contract_events import ContractEvents
from chain.deploy import ROUTER_IMPLEMENTATION
from chain.deployments import load_deployments
from chain.journal import ChainJournal
from chain.rpc import ChainRpc
from chain.usd_prices import UsdPriceBook
from chain.watcher import ChainWatcher, WatcherConfig
from chain.watchset import WatchSet
from events.errors import ConfigurationError
from events.store import EventStore
from handlers.declaration import load_modules
from impressox.connections import connect_mongo, connect_redis
from impressox.settings import Settings
from projections.reader import ReadModels
from projections.registry import PROJECTIONS, READ_MODEL_MODULES
from projections.usd_prices import ReadModelPrices

log = structlog.get_logger(__name__)


def contract_events(settings: Settings, store: EventStore) -> ContractEvents:
    """What the API checks a contract rule's event against (see `chain.contract_events`)."""
    return ContractEvents(store, settings.deployments_file())


@dataclass
class ChainParts:
    """Everything about one chain a command needs, connected."""

    settings: Settings
    rpc: ChainRpc
    store: EventStore
    chain_id: int
    confirmations: int
    ours: dict[str, ABI]
    """Our contracts on this chain (address in lowercase -> the ABI that decodes it)."""

    @cached_property
    def journal(self) -> ChainJournal:
        return ChainJournal(self.store, self.chain_id)

    def watch_set(self) -> WatchSet:
        return WatchSet(self.store, fixed_contracts=frozenset(self.ours))

    def decoders(self) -> Decoders:
        return Decoders(self.store, self.chain_id, self.ours)

    def config(self, *, start_block: int | None = None) -> WatcherConfig:
        settings = self.settings
        return WatcherConfig(
            confirmations=self.confirmations,
            reorg_depth=settings.chain_reorg_depth,
            poll_interval_s=settings.chain_poll_interval_s,
            start_block=settings.chain_start_block if start_block is None else start_block,
            range_blocks=settings.chain_range_blocks,
            lease_ttl_ms=settings.lease_ttl_ms,
        )


def require_chain(settings: Settings) -> list[str]:
    """The nodes to use, or why there are none."""
    urls = settings.chain_rpc_urls()
    if not urls:
        raise ConfigurationError(
            "no chain to watch: set CHAIN_RPC_URL to a node's JSON-RPC URL (several,"
            " comma-separated, for failover)"
        )
    return urls


@asynccontextmanager
async def open_chain(settings: Settings, redis_url: str) -> AsyncIterator[ChainParts]:
    """The chain's parts: nodes checked, confirmations known, Redis connected."""
    rpc = ChainRpc(require_chain(settings), timeout_s=settings.chain_rpc_timeout_s)
    try:
        chain_id = await rpc.connect(settings.chain_id)
        confirmations = settings.chain_confirmations.get(chain_id)
        if confirmations is None:
            raise ConfigurationError(
                f"chain {chain_id} has no confirmations set: add it to"
                f" IMPRESSOX_CHAIN_CONFIRMATIONS, e.g. '{{\"{chain_id}\": 12}}'"
            )
        deployment = load_deployments(settings.deployments_file()).for_chain(chain_id)
        ours = {
            contract.address.lower(): load_artifact(contract.abi).abi
            for name, contract in (deployment.contracts.items() if deployment else ())
            if name != ROUTER_IMPLEMENTATION  # the proxy emits the router's events
        }
        redis = await connect_redis(redis_url)
        try:
            store = EventStore(redis, settings.stream_names())
            yield ChainParts(settings, rpc, store, chain_id, confirmations, ours)
        finally:
            await redis.aclose()
    finally:
        await rpc.aclose()


async def serve_chain_watcher(
    settings: Settings, redis_url: str, *, start_block: int | None
) -> None:
    """Watch the chain until SIGTERM/SIGINT; a second signal cancels the step in flight."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set() and main is not None:
            main.cancel()
            return
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    mongo = connect_mongo(settings.mongo_url) if settings.mongo_url else None
    prices = None
    if mongo is not None:
        load_modules(READ_MODEL_MODULES)
        read_models = ReadModels(mongo[settings.mongo_database], PROJECTIONS.all())
        prices = UsdPriceBook(ReadModelPrices(read_models))
    else:
        log.info("no MONGO_URL: chain transfers carry no USD value")
    try:
        async with open_chain(settings, redis_url) as parts:
            watcher = ChainWatcher(
                parts.rpc,
                parts.journal,
                parts.watch_set(),
                parts.decoders(),
                parts.config(start_block=start_block),
                prices=prices,
            )
            log.info(
                "watching", chain_id=parts.chain_id, nodes=parts.rpc.nodes, ours=len(parts.ours)
            )
            await watcher.run(stop)
    finally:
        if mongo is not None:
            await mongo.close()
