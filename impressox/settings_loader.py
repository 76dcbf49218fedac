"""Reading the settings: the environment and the YAML file, and explaining a refusal.

One line per refusal, naming the variable (or the file's key) and never a secret's
value; an unknown ``IMPRESSOX_`` variable or file key is refused with the nearest known
name. The settings themselves (`impressox.settings`) only declare what can be set.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from events.errors import ConfigurationError
from impressox.settings import (
    CONFIG_ENV,
    FILE_VALUES,
    Settings,
    env_name,
    variables_of,
)
from impressox.settings.env import ENV_PREFIX


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings, refusing unknown names and invalid values with one clear line.

    Precedence: `overrides` (command-line options), then the environment, then the YAML
    file (`config_file`, else IMPRESSOX_CONFIG), then defaults.
    """
    environ = os.environ
    path = config_file or (Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else None)
    file_values = _read_yaml(path) if path else {}
    _refuse_unknown(environ, file_values, path)
    token = FILE_VALUES.set(file_values)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise _explain(error, file_values, path) from None
    except SettingsError as error:  # a list or mapping setting that is not valid JSON
        field = re.search(r'field "(\w+)"', str(error))
        name = env_name(field.group(1)) if field else "a setting"
        raise ConfigurationError(
            f'invalid setting {name}: not valid JSON (write a list like ["my.module"])'
        ) from None
    finally:
        FILE_VALUES.reset(token)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigurationError(f"cannot read config file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"config file {path} is not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"config file {path} must hold a mapping of setting: value")
    return {str(key): value for key, value in data.items()}


def _refuse_unknown(
    environ: Mapping[str, str], file_values: dict[str, Any], path: Path | None
) -> None:
    fields = set(Settings.model_fields)
    known_env = {env_name(field) for field in fields} | {ENV_PREFIX + f.upper() for f in fields}
    known_env.add(CONFIG_ENV)
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known_env:
            raise ConfigurationError(f"unknown setting {name}{_suggest(name, known_env)}")
    for key in file_values:
        if key not in fields:
            raise ConfigurationError(f"unknown setting {key!r} in {path}{_suggest(key, fields)}")


def _secret(field: str) -> bool:
    """Whether a setting holds a secret, whose value must never be echoed."""
    annotation = Settings.model_fields[field].annotation if field in Settings.model_fields else None
    return SecretStr in (annotation, *get_args(annotation))


def _field_of(location: str) -> str:
    """The field a validation error location names (a field name or one of its variables)."""
    if location in Settings.model_fields:
        return location
    for field in Settings.model_fields:
        if location in variables_of(field):
            return field
    return location


def _suggest(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _explain(
    error: ValidationError, file_values: dict[str, Any], path: Path | None
) -> ConfigurationError:
    first = error.errors(include_url=False)[0]
    where = str(first["loc"][0]) if first["loc"] else "?"
    field = _field_of(where)
    variables = variables_of(field)
    from_environment = [name for name in variables if name in os.environ]
    if from_environment:
        source = from_environment[0]
    elif field in file_values:
        source = f"{field!r} in {path}"
    else:
        source = env_name(field)
    shown = first.get("input")
    value = f" = {shown!r}" if isinstance(shown, str | int | float) and not _secret(field) else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigurationError(f"invalid setting {source}{value}: {message}")
