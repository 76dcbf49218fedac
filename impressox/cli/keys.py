"""`impressox keys create|list|revoke`: API keys, issued on the command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="API keys: create (prints the key once), list, revoke.", no_args_is_help=True
)
