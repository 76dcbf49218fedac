"""`impressox`'s command groups, each imported only when it runs.

Importing every group up front cost each command about 3 s (web3 and eth-account for
`chain`, chromadb for `knowledge`, the API client for `alerts`...), `impressox --help`
included. The root group lists the groups from the table below instead, and imports one
when it is invoked; its help lists them with the table's one-line help, so printing it
imports none (tests/impressox/test_lazy_cli.py holds each line to its module's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

import typer
from typer import _click as click  # typer vendors click: its commands are of these types
from typer.core import TyperGroup


@dataclass(frozen=True)
class CommandGroup:
    """Where a group's Typer app lives, and its help (the same as the app's)."""

    module: str
    help: str


GROUPS: dict[str, CommandGroup] = {
    "events": CommandGroup("impressox.cli.events", "Append, read, tail and inspect event streams."),
    "aggregates": CommandGroup(
        "impressox.cli.aggregates",
        "Inspect aggregates: state at any version or time, and history.",
    ),
    "projections": CommandGroup(
        "impressox.cli.projections", "Read models: run them, list them, rebuild them."
    ),
    "keys": CommandGroup(
        "impressox.cli.keys", "API keys: create (prints the key once), list, revoke."
    ),
    "users": CommandGroup("impressox.cli.users", "Users: delete one."),
    "alerts": CommandGroup(
        "impressox.cli.alerts", "Your rules, their health, and alerts as they fire."
    ),
    "sources": CommandGroup("impressox.cli.sources", "Price and post sources: list them, run one."),
    "knowledge": CommandGroup(
        "impressox.cli.knowledge",
        "The knowledge base: add documents, search it, inspect it, reindex it.",
    ),
    "agent": CommandGroup("impressox.cli.agent", "The agent: evaluate its models."),
    "bots": CommandGroup(
        "impressox.cli.bots", "Chat bots: talk to the agent from Telegram and Discord."
    ),
    "chain": CommandGroup(
        "impressox.cli.chain",
        "The chain watcher: watch, backfill, status, ABIs; simulated local activity.",
    ),
}


def load_group(name: str) -> click.Command:
    """The click command of group `name`, its module imported now."""
    app: typer.Typer = import_module(GROUPS[name].module).app
    group = typer.main.get_group(app)  # a group even with one command (`users delete`)
    group.name = name
    return group


class LazyGroup(TyperGroup):
    """The root command: its own commands, then the groups of `GROUPS`, loaded on use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in GROUPS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # only its name and help are read: no import
            return TyperGroup(name=cmd_name, help=GROUPS[cmd_name].help)
        return load_group(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
