"""`impressox projections run|list|status|rebuild`: the read models and their rebuilds."""

from __future__ import annotations

import typer

from events.errors import ImpressoxError, RegistryError
from handlers.declaration import load_modules
from impressox.cli.common import exit_code, fail, require_urls, run, settings_from
from impressox.projector import configured_projections, serve_projections
from projections.registry import READ_MODEL_MODULES

app = typer.Typer(help="Read models: run them, list them, rebuild them.", no_args_is_help=True)


@app.command("run")
def run_projections(ctx: typer.Context) -> None:
    """Keep the read models up to date (IMPRESSOX_PROJECTIONS, else all); Ctrl-C stops."""
    settings = settings_from(ctx)
    try:
        load_modules([*READ_MODEL_MODULES, *settings.modules])
        projections = configured_projections(settings)
    except RegistryError as error:
        fail(str(error))
    try:
        redis_url, mongo_url = require_urls(settings)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    run(serve_projections(settings, redis_url, mongo_url, projections))
