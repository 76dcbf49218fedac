"""compose.yaml is checked here, since no Docker engine runs on our machines."""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer import Context
from typer.core import TyperGroup
from typer.main import get_command

from impressox.cli.app import app
from impressox.settings_loader import load_settings

REPO = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return data


def app_services() -> dict[str, Any]:
    return {name: s for name, s in compose()["services"].items() if s.get("build")}


def test_every_service_has_an_image_and_a_health_check() -> None:
    for name, service in compose()["services"].items():
        assert service.get("image"), name
        assert service.get("healthcheck"), name


def test_redis_keeps_an_append_only_file_and_never_evicts() -> None:
    command = compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


@pytest.mark.parametrize("service", sorted(app_services()))
def test_app_services_run_real_commands_with_valid_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = app_services()[service]
    program, subcommand = spec["command"][:2]
    assert program == "impressox"
    root = get_command(app)
    assert isinstance(root, TyperGroup)
    assert subcommand in root.list_commands(Context(root))
    for name, value in spec["environment"].items():
        monkeypatch.setenv(name, _interpolated(str(value)))
    settings = load_settings()
    assert settings.redis_url
    assert settings.mongo_url


def _interpolated(value: str) -> str:
    """A compose value with its required variables given, as an operator would."""
    if value.startswith("${IMPRESSOX_SECRET_KEY:?"):
        return base64.b64encode(bytes(32)).decode()
    assert "${" not in value, f"an unexpected interpolation: {value}"
    return value


def test_the_secret_key_must_be_given() -> None:
    for name, service in app_services().items():
        assert service["environment"]["IMPRESSOX_SECRET_KEY"].startswith(
            "${IMPRESSOX_SECRET_KEY:?"
        ), name


def test_host_ports_bind_to_loopback_only() -> None:
    for name, service in compose()["services"].items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), name


def test_the_image_copies_every_package() -> None:
    """Every package of the project is installed, type-checked and in the image."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]
    packages = sorted(
        path.parent.name
        for path in REPO.glob("*/__init__.py")
        if path.parent.name not in ("tests", "bench")
    )
    dockerfile = (REPO / "Dockerfile").read_text()
    for package in packages:
        assert f"{package}*" in project["setuptools"]["packages"]["find"]["include"], package
        assert package in project["mypy"]["packages"], package
        assert f"COPY {package} {package}" in dockerfile, package
