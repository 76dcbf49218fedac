"""`impressox sources ...`: list the sources, run one into the ticks or posts category.

`run` builds the source from settings (options on the command line win), appends its
ticks (or posts) until it runs out (a replay, an import) or until SIGTERM / Ctrl-C (a
live feed), and ends with one JSON line tallying what it appended. Live price sources
print a status line every `--status-every` seconds on stderr; a replay shows a progress
bar there; post sources log what they do instead. Bad input (an unknown source,
exchange or symbol, a missing or malformed file) exits 2 with one line, before anything
is appended; a venue refusing us for good (a bad key or token) exits 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import orjson
import structlog
import typer
from rich.console import Console
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from events.errors import ImpressoxError
from events.store import EventStore
from impressox.cli.common import exit_code, fail, redis_for, run, settings_from
from impressox.settings import Settings, destination_policy
from sources.coingecko import CoinGeckoSource
from sources.posts.cursors import SinceIds
from sources.posts.follows import Follows
from sources.posts.jsonl_import import DEMO_POSTS, PostsImport
from sources.posts.rss import RssSource
from sources.posts.runner import PostStatus, run_post_source
from sources.posts.source import PostSource
from sources.posts.x_api import XApiSource
from sources.publisher import SourceStatus
from sources.registry import SOURCES, source_info
from sources.replay import FileReplay, parse_speed
from sources.resume import last_prices
from sources.runner import run_source
from sources.simulator import MarketSimulator, SimulatorConfig
from sources.source import PriceSource

log = structlog.get_logger(__name__)

app = typer.Typer(help="Price and post sources: list them, run one.", no_args_is_help=True)


@app.command("list")
def list_sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The sources, what each reads and appends, and which ones `impressox up` runs."""
    settings = settings_from(ctx)
    rows = [
        {
            "name": info.name,
            "kind": info.kind,
            "simulated": info.simulated,
            "runs": "until stopped" if info.live else "to the end of its file",
            "started_by_up": info.name in settings.sources,
            "appends": info.category,
            "description": info.description,
        }
        for info in SOURCES.values()
    ]
    if as_json:
        for row in rows:
            sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
        return
    console = Console()
    for row in rows:  # a block per source: fits any terminal, the description wraps
        data = "SIMULATED" if row["simulated"] else "real"
        up = "started by" if row["started_by_up"] else "not started by"
        console.print(
            Text.assemble((str(row["name"]), "bold"), f"  {row['kind']}, {data} {row['appends']}"),
            soft_wrap=True,
        )
        console.print(
            Padding(f"{row['description']} Runs {row['runs']}; {up} `impressox up`.", (0, 0, 1, 2))
        )


@dataclass(frozen=True)
class RunOptions:
    """What the command line overrides of the settings (None: keep the setting)."""

    symbols: list[str] | None = None
    exchange: str | None = None
    poll_interval_s: float | None = None
    streaming: bool | None = None
    seed: int | None = None
    rate_hz: float | None = None
    file: Path | None = None
    speed: str | None = None


APPLIES_TO = {
    "symbols": {"simulator", "exchange"},
    "exchange": {"exchange"},
    "poll_interval_s": {"exchange", "coingecko", "x", "rss"},
    "streaming": {"exchange"},
    "seed": {"simulator"},
    "rate_hz": {"simulator"},
    "file": {"replay", "posts-import"},
    "speed": {"replay"},
}
OPTION_NAMES = {
    "symbols": "--symbol",
    "exchange": "--exchange",
    "poll_interval_s": "--poll-interval",
    "streaming": "--stream/--poll",
    "seed": "--seed",
    "rate_hz": "--rate",
    "file": "--file",
    "speed": "--speed",
}


@app.command("run")
def run_command(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(help="simulator, exchange, coingecko, replay, x, rss or posts-import."),
    ],
    symbols: Annotated[
        list[str] | None,
        typer.Option("--symbol", help="Symbol to follow, e.g. BTC/USDT (repeatable)."),
    ] = None,
    exchange: Annotated[
        str | None, typer.Option(help="ccxt exchange id (default: the exchange_id setting).")
    ] = None,
    poll_interval: Annotated[
        float | None,
        typer.Option(min=0.01, help="Seconds between polls (exchange, coingecko, x, rss)."),
    ] = None,
    streaming: Annotated[
        bool | None, typer.Option("--stream/--poll", help="Exchange: WebSocket or REST polling.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Simulator seed.")] = None,
    rate: Annotated[
        float | None, typer.Option(min=0.001, max=1000, help="Simulator ticks per second.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Replay: a .csv or .jsonl history; posts-import: a .jsonl of posts."),
    ] = None,
    speed: Annotated[
        str | None, typer.Option(help="Replay: 1 as recorded, 10 ten times faster, or max.")
    ] = None,
    stale_after: Annotated[
        float | None, typer.Option(min=0, help="Seconds of silence before source.stale (0: off).")
    ] = None,
    status_every: Annotated[
        float,
        typer.Option(
            min=0, help="Seconds between status lines of a live source (0: no status, no bar)."
        ),
    ] = 10.0,
) -> None:
    """Run one price source, appending its ticks until it ends or is stopped."""
    settings = settings_from(ctx)
    try:
        info = source_info(name)
    except ImpressoxError as error:
        fail(str(error))
    options = RunOptions(
        symbols=symbols,
        exchange=exchange,
        poll_interval_s=poll_interval,
        streaming=streaming,
        seed=seed,
        rate_hz=rate,
        file=file,
        speed=speed,
    )
    for option in fields(options):
        if getattr(options, option.name) is not None and name not in APPLIES_TO[option.name]:
            fail(f"{OPTION_NAMES[option.name]} does not apply to the {name} source")
    if info.category == "posts":
        if stale_after is not None:
            fail(f"--stale-after does not apply to the {name} source")
        _run_posts(settings, name, options)
        return
    try:
        source = build_source(name, settings, options)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    stale_after_s = settings.source_stale_after_s if stale_after is None else stale_after
    display = _Display(status_every)
    try:
        status = run(
            _serve(
                settings,
                source,
                stale_after_s=stale_after_s if info.live and stale_after_s > 0 else None,
                display=display,
            )
        )
    finally:
        display.close()
    summary: dict[str, Any] = {
        "source": name,
        "venues": sorted({tick.venue for tick in status.last.values()}),
        "simulated": source.simulated,
        "ticks": status.ticks,
        "new": status.new,
        "duplicates": status.duplicates,
        "stale_events": status.stale_events,
    }
    sys.stdout.buffer.write(orjson.dumps(summary) + b"\n")


def build_source(name: str, settings: Settings, options: RunOptions) -> PriceSource:
    """The source `name`, configured by settings and then by the command line."""
    if name == "simulator":
        return MarketSimulator(
            SimulatorConfig(
                symbols=tuple(options.symbols or settings.simulator_symbols),
                start_prices=settings.simulator_start_prices,
                volatility=settings.simulator_volatility,
                rate_hz=options.rate_hz or settings.simulator_rate_hz,
                seed=settings.simulator_seed if options.seed is None else options.seed,
            )
        )
    if name == "exchange":
        from sources.exchange import ExchangeSource  # noqa: PLC0415 - ccxt takes a second to import

        return ExchangeSource(
            options.exchange or settings.exchange_id,
            tuple(options.symbols or settings.exchange_symbols),
            streaming=(
                settings.exchange_streaming if options.streaming is None else options.streaming
            ),
            poll_interval_s=options.poll_interval_s or settings.exchange_poll_interval_s,
            api_urls=settings.exchange_api_urls,
            options=settings.exchange_options,
        )
    if name == "coingecko":
        key = settings.coingecko_api_key
        return CoinGeckoSource(
            settings.coingecko_coins,
            base_url=settings.coingecko_base_url,
            api_key=key.get_secret_value() if key else None,
            poll_interval_s=options.poll_interval_s or settings.coingecko_poll_interval_s,
        )
    path = options.file or settings.replay_file
    if path is None:
        fail("the replay source needs a file: --file PATH (or the replay_file setting)")
    return FileReplay(path, speed=parse_speed(options.speed or settings.replay_speed))


async def _serve(
    settings: Settings, source: PriceSource, *, stale_after_s: float | None, display: _Display
) -> SourceStatus:
    """Run the source until it ends, or until SIGTERM / Ctrl-C (a second one cancels)."""
    async with _stop_on_signals(source.name) as stop, redis_for(settings, wait=True) as redis:
        store = EventStore(redis, settings.stream_names())
        if isinstance(source, MarketSimulator) and source.resumes:
            await _resume(source, store)
        return await run_source(
            source, store, stop=stop, stale_after_s=stale_after_s, observer=display.show
        )


async def _resume(simulator: MarketSimulator, store: EventStore) -> None:
    """Go on from the last recorded prices: no seed was given, so no path is to repeat."""
    prices = await last_prices(store, simulator.venue, simulator.symbols)
    simulator.resume(prices)
    log.info("simulator resumes from the last recorded prices", prices=prices, seed=simulator.seed)


def _run_posts(settings: Settings, name: str, options: RunOptions) -> None:
    """Run a post source; ends with one JSON line tallying the posts it appended."""
    status = run(_serve_posts(settings, name, options))
    summary = {
        "source": name,
        "posts": status.posts,
        "new": status.new,
        "duplicates": status.duplicates,
    }
    sys.stdout.buffer.write(orjson.dumps(summary) + b"\n")


async def _serve_posts(settings: Settings, name: str, options: RunOptions) -> PostStatus:
    """Build the post source on the store (cursors, watches) and run it until it ends."""
    async with _stop_on_signals(name) as stop, redis_for(settings, wait=True) as redis:
        store = EventStore(redis, settings.stream_names())
        source = build_post_source(name, settings, options, store)
        return await run_post_source(source, store, stop=stop)


def build_post_source(
    name: str, settings: Settings, options: RunOptions, store: EventStore
) -> PostSource:
    """The post source `name`, configured by settings and then by the command line."""
    follows = Follows(store) if settings.x_follow_watches else None
    if name == "x":
        token = settings.x_bearer_token
        return XApiSource(
            token.get_secret_value() if token else "",
            cursors=SinceIds(store.redis, settings.stream_prefix, "x"),
            follows=follows,
            queries=settings.x_queries,
            accounts=settings.x_accounts,
            base_url=settings.x_api_url,
            poll_interval_s=options.poll_interval_s or settings.x_poll_interval_s,
            max_pages=settings.x_max_pages,
        )
    if name == "rss":
        return RssSource(
            settings.rss_feeds,
            follows=follows,
            destinations=destination_policy(settings),
            poll_interval_s=options.poll_interval_s or settings.rss_poll_interval_s,
        )
    return PostsImport(options.file or settings.posts_import_file or DEMO_POSTS)


@contextlib.asynccontextmanager
async def _stop_on_signals(name: str) -> AsyncIterator[asyncio.Event]:
    """An event set by SIGTERM / Ctrl-C; a second signal cancels the command outright."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set() and main is not None:
            main.cancel()
            return
        log.info("stopping", source=name, signal=signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        yield stop
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


class _Display:
    """A progress bar for a replay, a status line now and then for a live source."""

    def __init__(self, status_every_s: float) -> None:
        self.status_every_s = status_every_s
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.task: Any = None
        self.last_line = 0.0
        self.started = False

    def show(self, source: PriceSource, status: SourceStatus) -> None:
        if not self.status_every_s:
            return
        if not self.started:
            self.started = True
            self._banner(source)
        if source.total is not None:
            self._advance(source.total, status.ticks)
            return
        now = time.monotonic()
        if now - self.last_line >= self.status_every_s:
            self.last_line = now
            self.console.print(_status_line(source, status), highlight=False, soft_wrap=True)

    def _banner(self, source: PriceSource) -> None:
        what = "SIMULATED prices (not a market)" if source.simulated else "prices"
        symbols = ", ".join(source.symbols) or "the symbols the file names"
        self.console.print(
            f"{source.name}: {what} of {symbols} from {source.venue}",
            highlight=False,
            soft_wrap=True,
        )

    def _advance(self, total: int, done: int) -> None:
        if self.progress is None:
            self.progress = Progress(
                TextColumn("replaying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("replay", total=total)
        self.progress.update(self.task, completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _status_line(source: PriceSource, status: SourceStatus) -> str:
    prices = ", ".join(f"{symbol} {tick.price:.6g}" for symbol, tick in sorted(status.last.items()))
    label = " [SIMULATED]" if source.simulated else ""
    stale = f"; stale: {', '.join(status.stale)}" if status.stale else ""
    return (
        f"{source.name}{label}: {status.ticks} ticks ({status.new} new,"
        f" {status.duplicates} already stored); {prices}{stale}"
    )
