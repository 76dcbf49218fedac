"""`impressox chain ...`: follow a chain, backfill its past, see where the watcher is.

- `watch` runs the chain watcher until SIGTERM or Ctrl-C (needs REDIS_URL or a running
  system); `--from BLOCK` says where a chain with no cursor starts.
- `backfill --from A [--to B]` observes and confirms what is watched (or the `--wallet`s
  and `--contract`s given) in blocks A to B, which must be confirmed already: a progress
  bar on stderr, one JSON line on stdout at the end. Event ids derive from the blocks, so
  a backfill over blocks the watcher followed appends nothing twice.
- `status` prints the nodes, the head, the cursor, the lag and what is watched.
- `abi ADDRESS FILE` registers the ABI that decodes a contract's logs.

Bad input (a malformed address, an empty or unconfirmed block range, an ABI that is not
one) exits 2 with one line, before anything is written; a node or Redis that cannot be
reached exits 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from web3 import Web3
from web3.exceptions import Web3Exception

from aggregates.evm import checksum_address
from chain.abis import register_abi
from chain.backfill import backfill as run_backfill
from chain.deploy import deploy
from chain.errors import InvalidBlockRangeError
from chain.observations import RecordBuilder
from chain.queries import LogQueries
from chain.ranges import RangeReader, RangeSizer
from chain.simulator import ActivitySimulator
from chain.tokens import TokenBook
from chain.watchset import WatchTargets, fixed_targets
from events.errors import ConfigurationError
from impressox.chain_watcher import ChainParts, open_chain, require_chain, serve_chain_watcher
from impressox.cli.common import fail, redis_url_for, run, running_urls, settings_from
from impressox.embedded.chain import LOCAL_CHAIN_ID
from impressox.settings import Settings

app = typer.Typer(
    help="The chain watcher: watch, backfill, status, ABIs; simulated local activity.",
    no_args_is_help=True,
)

Addresses = Annotated[
    list[str] | None,
    typer.Option(help="Only this address (repeatable); default: everything watched."),
]


@app.command()
def watch(
    ctx: typer.Context,
    start: Annotated[
        int | None,
        typer.Option("--from", min=0, help="First block, when the chain has no cursor yet."),
    ] = None,
) -> None:
    """Follow the chain until stopped: observe, confirm, retract on reorgs."""
    settings = settings_from(ctx)
    _require_chain(settings)
    redis_url, _ = running_urls(settings)
    if redis_url is None:
        fail("no REDIS_URL: set it, or start the whole system with `impressox up`", 1)
    if start is not None:
        run(_refuse_a_second_start(settings, redis_url, start))
    run(serve_chain_watcher(settings, redis_url, start_block=start))


async def _refuse_a_second_start(settings: Settings, redis_url: str, start: int) -> None:
    async with open_chain(settings, redis_url) as parts:
        cursor = (await parts.journal.load()).cursor
        if cursor is not None:
            fail(
                f"--from: chain {parts.chain_id} is followed already (cursor at block"
                f" {cursor.number}); `impressox chain backfill` reads older blocks"
            )


@app.command()
def backfill(
    ctx: typer.Context,
    first: Annotated[int, typer.Option("--from", min=0, help="First block to read.")],
    last: Annotated[
        int | None, typer.Option("--to", min=0, help="Last block (default: the last confirmed).")
    ] = None,
    wallet: Addresses = None,
    contract: Addresses = None,
) -> None:
    """Observe and confirm what is watched in confirmed blocks FROM to TO."""
    settings = settings_from(ctx)
    _require_chain(settings)
    given = fixed_targets(
        [_address(a, "--contract") for a in contract or []],
        [_address(a, "--wallet") for a in wallet or []],
    )

    async def go() -> dict[str, Any]:
        with redis_url_for(settings) as redis_url:
            async with open_chain(settings, redis_url) as parts:
                return await _backfill(parts, first, last, given)

    _print_json(run(go()))


async def _backfill(
    parts: ChainParts, first: int, last: int | None, given: WatchTargets
) -> dict[str, Any]:
    if last is not None and first > last:
        raise InvalidBlockRangeError(f"--from {first} is after --to {last}: nothing to read")
    head = await parts.rpc.block_number()
    confirmed = head - parts.confirmations + 1
    last = confirmed if last is None else last
    if last > confirmed or first > last:
        raise InvalidBlockRangeError(
            f"block {last} is not confirmed yet (head {head}, {parts.confirmations}"
            f" confirmations): backfill up to {confirmed}; the watcher follows the rest"
        )
    targets = given
    if not targets:
        watch_set = parts.watch_set()
        await watch_set.refresh()
        targets = watch_set.targets
    if not targets:
        raise InvalidBlockRangeError(
            "nothing is watched on this chain: give --wallet or --contract"
        )
    decoders = parts.decoders()
    await decoders.refresh()
    tokens = TokenBook(parts.rpc, parts.store.redis, parts.journal.tokens_key)
    await tokens.load()
    with _progress_bar() as bar:
        task = bar.add_task("backfill", total=last - first + 1)
        result = await run_backfill(
            reader=RangeReader(parts.rpc, RangeSizer(parts.settings.chain_range_blocks)),
            journal=parts.journal,
            builder=RecordBuilder(parts.chain_id, decoders, tokens),
            queries=LogQueries(targets),
            first=first,
            last=last,
            confirmations=parts.confirmations,
            progress=lambda blocks: bar.advance(task, blocks),
        )
    return {
        "chain_id": parts.chain_id,
        "from": result.first,
        "to": result.last,
        "contracts": len(targets.contracts),
        "wallets": len(targets.wallets),
        "logs": result.logs,
        "appended": result.new_events,
        "rpc_calls": parts.rpc.total_calls,
    }


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 0 if a watcher follows the chain, 1 if none.")
    ] = False,
) -> None:
    """Where the watcher is: nodes, head, cursor, lag, what is watched."""
    settings = settings_from(ctx)
    _require_chain(settings)

    async def go() -> dict[str, Any]:
        with redis_url_for(settings) as redis_url:
            async with open_chain(settings, redis_url) as parts:
                return await _status(parts)

    found = run(go())
    if check:
        watcher = found["watcher"]
        typer.echo(
            f"chain {found['chain_id']}: " + (f"followed by {watcher}" if watcher else "no watcher")
        )
        raise typer.Exit(0 if watcher else 1)
    if as_json:
        _print_json(found)
        return
    for name, value in found.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        typer.echo(f"{name}: {shown}")


async def _status(parts: ChainParts) -> dict[str, Any]:
    head = await parts.rpc.block_number()
    journal = parts.journal
    state = await journal.load()
    watch_set = parts.watch_set()
    await watch_set.refresh()
    cursor = state.cursor
    seen = await journal.status()
    return {
        "chain_id": parts.chain_id,
        "nodes": parts.rpc.nodes,
        "head": head,
        "cursor": None if cursor is None else cursor.number,
        "cursor_hash": None if cursor is None else cursor.hash,
        "confirmed_through": None if cursor is None else cursor.confirmed,
        "lag_blocks": None if cursor is None else head - cursor.number,
        "confirmations": parts.confirmations,
        "reorg_depth": parts.settings.chain_reorg_depth,
        "watcher": await journal.lease_holder(),
        "watcher_seen_head": int(seen["head"]) if "head" in seen else None,
        "watched_contracts": len(watch_set.targets.contracts),
        "watched_wallets": len(watch_set.targets.wallets),
        "ours": len(parts.ours),
        "journal_events": await parts.store.redis.xlen(journal.journal),
        "reorged_blocks": len(state.reorged),
    }


@app.command()
def abi(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="The contract, 0x and 40 hex digits.")],
    file: Annotated[Path, typer.Argument(help="Its ABI, a JSON list (or a Hardhat artifact).")],
    name: Annotated[str, typer.Option(help="A label for people.")] = "",
) -> None:
    """Register the ABI that decodes ADDRESS's logs on the chain from now on."""
    settings = settings_from(ctx)
    _require_chain(settings)
    checked = _address(address, "ADDRESS")
    try:
        document = orjson.loads(file.read_bytes())
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    except orjson.JSONDecodeError as error:
        fail(f"{file}: not JSON: {error}")
    entries = document.get("abi") if isinstance(document, dict) else document

    async def go() -> dict[str, Any]:
        with redis_url_for(settings) as redis_url:
            async with open_chain(settings, redis_url) as parts:
                result = await register_abi(
                    parts.store, parts.chain_id, checked, entries, name=name
                )
                return {
                    "chain_id": parts.chain_id,
                    "address": checked.lower(),
                    "position": str(result.position),
                    "duplicate": result.duplicate,
                }

    _print_json(run(go()))


@app.command()
def simulate(
    ctx: typer.Context,
    every: Annotated[float, typer.Option(min=0.1, help="Seconds between steps.")] = 3.0,
    steps: Annotated[int, typer.Option(min=0, help="Stop after this many (0: never).")] = 0,
    seed: Annotated[int, typer.Option(help="The same seed makes the same activity.")] = 16,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Print nothing per step (`impressox up` runs it so).")
    ] = False,
) -> None:
    """Simulated activity on the local chain (CHAIN_RPC_URL, chain 31337 only): deploy our
    contracts if they are not there, then payments between demo wallets and swaps through
    the router, one a step, each printed and labelled simulated."""
    settings = settings_from(ctx)
    _require_chain(settings)
    w3 = Web3(Web3.HTTPProvider(settings.chain_rpc_urls()[0]))
    try:
        chain_id = w3.eth.chain_id
    except (Web3Exception, OSError) as error:
        fail(f"cannot reach the chain: {type(error).__name__}", 1)
    if chain_id != LOCAL_CHAIN_ID:
        fail(f"chain {chain_id} is not the local chain ({LOCAL_CHAIN_ID}): nothing simulated")
    deployment = deploy(w3, settings.deployments_file(), sender=w3.eth.accounts[0])
    simulator = ActivitySimulator(w3, deployment, seed=seed)
    done = 0
    while steps == 0 or done < steps:
        made = simulator.step()
        if not quiet:
            typer.echo(f"simulated: {made.words} (tx {made.tx_hash})")
        done += 1
        if steps == 0 or done < steps:
            time.sleep(every)


def _require_chain(settings: Settings) -> None:
    try:
        require_chain(settings)
    except ConfigurationError as error:
        fail(str(error))


def _address(value: str, option: str) -> str:
    try:
        return checksum_address(value)
    except ValueError as error:
        fail(f"{option} {value}: {error}")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("blocks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _print_json(value: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.flush()
