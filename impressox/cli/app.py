"""The `impressox` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from events.errors import ImpressoxError, RegistryError
from handlers.declaration import HANDLERS
from impressox.cli import (
    agent,
    aggregates,
    alerts,
    bots,
    chain,
    events,
    keys,
    knowledge,
    projections,
    sources,
    users,
)
from impressox.cli.common import (
    EXIT_INTERRUPTED,
    exit_code,
    fail,
    require_urls,
    run,
    running_urls,
    settings_from,
)
from impressox.connections import redact
from impressox.modules import load_handlers
from impressox.settings import Settings
from impressox.settings_table import markdown_table
from impressox.supervisor import Supervisor
from impressox.workers import live_consumers, serve_worker

app = typer.Typer(
    help="Impressox: an event-sourced agent platform for crypto and DeFi traders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(events.app, name="events")
app.add_typer(aggregates.app, name="aggregates")
app.add_typer(projections.app, name="projections")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(alerts.app, name="alerts")
app.add_typer(sources.app, name="sources")
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(agent.app, name="agent")
app.add_typer(bots.app, name="bots")
app.add_typer(chain.app, name="chain")


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML settings file (also IMPRESSOX_CONFIG)."),
    ] = None,
) -> None:
    ctx.obj = {"config": config}


@app.command()
def up(ctx: typer.Context) -> None:
    """Start the whole system (embedded Redis and MongoDB unless URLs are set)."""
    settings = settings_from(ctx)
    try:
        Supervisor(settings, ctx.obj.get("config")).run()
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None


@app.command()
def api(ctx: typer.Context) -> None:
    """Serve the HTTP API (needs REDIS_URL and MONGO_URL, or a running system)."""
    from impressox.api_app import create_app  # noqa: PLC0415 - FastAPI loads only where it serves

    settings = settings_from(ctx)
    try:
        redis_url, mongo_url = require_urls(settings)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    uvicorn.run(
        create_app(settings, redis_url=redis_url, mongo_url=mongo_url),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s),
    )


@app.command()
def worker(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The handler to run (its consumer group).")],
    metrics_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Serve Prometheus metrics on 127.0.0.1.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 0 if a consumer of NAME is alive, 1 if none.")
    ] = False,
) -> None:
    """Run one handler. Start several for more throughput: they share partitions."""
    settings = settings_from(ctx)
    try:
        load_handlers(settings.modules)
        spec = HANDLERS.get(name)
    except RegistryError as error:
        fail(str(error))
    redis_url, mongo_url = running_urls(settings)
    if redis_url is None:
        fail("no REDIS_URL: set it, or start the whole system with `impressox up`", 1)
    if check:
        live = run(live_consumers(settings, redis_url, name))
        typer.echo(
            f"{name}: {len(live)} live consumer(s)" + (f": {', '.join(live)}" if live else "")
        )
        raise typer.Exit(0 if live else 1)
    run(serve_worker(settings, spec, redis_url, mongo_url, metrics_port=metrics_port))


@app.command("settings")
def show_settings(
    ctx: typer.Context,
    markdown: Annotated[
        bool, typer.Option(help="Print the table of all settings (README).")
    ] = False,
) -> None:
    """Print the effective settings (secrets redacted), or the table of all settings."""
    if markdown:
        typer.echo(markdown_table())
        return
    settings: Settings = settings_from(ctx)
    for name, value in settings.model_dump().items():
        shown = redact(value) if isinstance(value, str) and "://" in value else value
        typer.echo(f"{name}: {shown}")


def main() -> None:
    app(prog_name="impressox")
