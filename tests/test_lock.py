"""The lock (locks/*.txt) is what every install uses: it must agree with pyproject.toml,
with itself, and with the environment these tests run in, and name no package index."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCKS = REPO / "locks"
LOCK_FILES = ("all.txt", "dev.txt", "runtime.txt", "uv.txt")


@cache
def locked(name: str) -> dict[str, list[Requirement]]:
    """Each package of a lock file with its pin(s): one per marker fork of the resolution."""
    text = (LOCKS / name).read_text()
    pins: dict[str, list[Requirement]] = {}
    for line in text.splitlines():
        if not line or line[0] in " #-":
            continue
        requirement = Requirement(line.rstrip(" \\"))
        pins.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return pins


def applicable(name: str, package: str) -> Requirement | None:
    """The pin of a package that applies to this interpreter and platform, if any."""
    for requirement in locked(name).get(canonicalize_name(package), []):
        if requirement.marker is None or requirement.marker.evaluate():
            return requirement
    return None


def version_of(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "=="
    return specifier.version


def direct_requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


@pytest.mark.parametrize("name", LOCK_FILES)
def test_a_lock_names_no_index_and_hashes_every_pin(name: str) -> None:
    text = (LOCKS / name).read_text()
    assert not re.search(r"https?://|file://|--(extra-)?index-url|--find-links", text)
    lines = text.splitlines()
    pins = [number for number, line in enumerate(lines) if line and line[0] not in " #-"]
    assert pins
    for number in pins:
        assert lines[number].endswith("\\"), lines[number]
        assert lines[number + 1].startswith("    --hash=sha256:"), f"{lines[number]} has no hash"


@pytest.mark.parametrize(
    ("name", "extras"),
    [
        ("runtime.txt", ()),
        ("dev.txt", ("embedded", "dev")),
        ("all.txt", ("embedded", "dev", "minilm")),
    ],
)
def test_every_direct_requirement_is_locked_within_its_range(
    name: str, extras: tuple[str, ...]
) -> None:
    for requirement in direct_requirements(*extras):
        pins = locked(name).get(canonicalize_name(requirement.name))
        assert pins, f"{requirement.name} is not in locks/{name}: run make lock"
        for pin in pins:
            assert requirement.specifier.contains(version_of(pin), prereleases=True), (
                f"locks/{name} pins {pin} outside {requirement}: run make lock"
            )


@pytest.mark.parametrize("name", ["dev.txt", "runtime.txt", "uv.txt"])
def test_the_locks_agree_on_every_shared_version(name: str) -> None:
    everything = locked("all.txt")
    for package, pins in locked(name).items():
        assert {str(pin) for pin in pins} <= {str(pin) for pin in everything[package]}, package


def test_this_environment_is_exactly_the_lock() -> None:
    """What these tests run on is what the lock says: nothing newer slipped in."""
    installed: dict[str, str] = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    for package in locked("dev.txt"):
        pin = applicable("dev.txt", package)
        if pin is not None:
            assert installed.get(package) == version_of(pin), package
