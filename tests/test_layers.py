"""The import table of docs/architecture.md, held against the code and the layer contracts.

`lint-imports` (run by `make lint`) checks the code against the contracts in
pyproject.toml; this test checks the document against both: each package's row names
exactly the packages of ours it imports (less any exceptions the contract lists), and
only ones its layer may import. So neither the table nor the contracts can drift unnoticed.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(?P<package>[a-z_]+)/` \|[^|]*\| (?P<ours>[^|]*) \|")


def importlinter() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]  # type: ignore[no-any-return]


def contract(kind: str) -> list[dict[str, Any]]:
    return [c for c in importlinter()["contracts"] if c["type"] == kind]


def allowed() -> dict[str, set[str]]:
    """What each root package may import: the layers below its own, less what a
    forbidden contract takes away."""
    (layers,) = contract("layers")
    levels = [[p.strip() for p in level.split("|")] for level in layers["layers"]]
    may: dict[str, set[str]] = {}
    for at, level in enumerate(levels):
        below = {p for lower in levels[at + 1 :] for p in lower}
        for package in level:
            may[package] = set(below)
    for forbidden in contract("forbidden"):
        for source in forbidden["source_modules"]:
            if source in may:  # a contract between packages (others are within one)
                may[source] -= set(forbidden["forbidden_modules"])
    return may


def imported() -> dict[str, set[str]]:
    """The root packages each root package imports, less the layers' listed exceptions."""
    packages = importlinter()["root_packages"]
    (layers,) = contract("layers")
    excepted = {
        tuple(s.strip() for s in line.split("->")) for line in layers.get("ignore_imports", [])
    }
    graph = grimp.build_graph(*packages)
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        for target in graph.find_modules_directly_imported_by(module):
            source_top, target_top = module.split(".")[0], target.split(".")[0]
            if source_top != target_top and (module, target) not in excepted:
                edges[source_top].add(target_top)
    return {package: edges[package] for package in packages}


def documented() -> dict[str, set[str]]:
    packages = set(importlinter()["root_packages"])
    table: dict[str, set[str]] = {}
    for line in (REPO / "docs" / "architecture.md").read_text().splitlines():
        match = ROW.match(line)
        if match and match["package"] in packages:
            table[match["package"]] = set(re.findall(r"`([a-z_]+)`", match["ours"]))
    return table


@pytest.fixture(scope="module")
def code() -> dict[str, set[str]]:
    return imported()


def test_every_root_package_has_a_row(code: dict[str, set[str]]) -> None:
    assert set(code) <= set(documented())


def test_the_table_names_what_each_package_imports(code: dict[str, set[str]]) -> None:
    table = documented()
    wrong = {
        package: "imports of ours: " + (", ".join(f"`{p}`" for p in sorted(ours)) or "none")
        for package, ours in code.items()
        if table.get(package) != ours
    }
    assert not wrong, f"docs/architecture.md's table should say {wrong}"


def test_the_table_agrees_with_the_contracts() -> None:
    may = allowed()
    beyond = {p: sorted(ours - may[p]) for p, ours in documented().items() if ours - may[p]}
    assert not beyond, f"the table lets packages import what their layer may not: {beyond}"
