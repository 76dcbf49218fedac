"""The `impressox` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from events.errors import ImpressoxError, RegistryError
from impressox.cli.common import (
    EXIT_INTERRUPTED,
    exit_code,
    fail,
    require_urls,
    run,
    running_urls,
    settings_from,
)
from impressox.cli.lazy import LazyGroup
from impressox.connections import redact
from impressox.settings import Settings

# The command groups (`impressox events ...`) are listed in impressox/cli/lazy.py and
# imported when invoked; so are what the commands below need (the supervisor, uvicorn,
# the handlers): a command pays only for its own imports.
app = typer.Typer(
    cls=LazyGroup,
    help="Impressox: an event-sourced agent platform for crypto and DeFi traders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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
    from impressox.supervisor import Supervisor  # noqa: PLC0415 - see `app`

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
    import uvicorn  # noqa: PLC0415 - see `app`

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
    from handlers.declaration import HANDLERS  # noqa: PLC0415 - see `app`
    from impressox.modules import load_handlers  # noqa: PLC0415
    from impressox.workers import live_consumers, serve_worker  # noqa: PLC0415

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
        from impressox.settings_table import markdown_table  # noqa: PLC0415 - see `app`

        typer.echo(markdown_table())
        return
    settings: Settings = settings_from(ctx)
    for name, value in settings.model_dump().items():
        shown = redact(value) if isinstance(value, str) and "://" in value else value
        typer.echo(f"{name}: {shown}")


def main() -> None:
    app(prog_name="impressox")
