"""The command groups load when invoked: `impressox --help` imports none of them."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest
import typer

from impressox.cli import lazy
from tests.impressox.cli_support import REPO

CLI = REPO / "impressox" / "cli"


def test_every_group_module_is_listed_with_its_own_help() -> None:
    modules = {
        f"impressox.cli.{path.stem}"
        for path in CLI.glob("*.py")
        if "\napp = typer.Typer(" in path.read_text()
    }
    assert {group.module for group in lazy.GROUPS.values()} == modules - {"impressox.cli.app"}
    for name, group in lazy.GROUPS.items():
        app: typer.Typer = import_module(group.module).app
        assert app.info.help == group.help, name


HELP = """
import sys
from impressox.cli.app import app
try:
    app(["--help"], prog_name="impressox")
except SystemExit:
    pass
print("IMPORTED", " ".join(sorted(sys.modules)))
"""


def test_the_help_lists_every_group_without_importing_one() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HELP], capture_output=True, text=True, cwd=REPO, check=True
    )
    help_text, _, imported = result.stdout.partition("IMPORTED ")
    modules = set(imported.split())
    for name, group in lazy.GROUPS.items():
        assert name in help_text
        assert group.module not in modules
    assert not {"web3", "chromadb", "uvicorn", "httpx"} & modules


@pytest.mark.parametrize("name", sorted(lazy.GROUPS))
def test_a_group_loads_with_its_commands(name: str) -> None:
    command = lazy.load_group(name)
    assert command.name == name
    assert isinstance(command, typer.core.TyperGroup)
    assert command.list_commands(typer.Context(command))
