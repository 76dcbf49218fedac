"""Settings: environment variables over an optional YAML file over defaults.

Every setting has one environment variable (``IMPRESSOX_<NAME>``, or the conventional
``REDIS_URL`` / ``MONGO_URL``) and one YAML key (its lowercase name). A misspelt
``IMPRESSOX_`` variable or YAML key, or a value of the wrong shape, stops the program at
start with one line naming the setting, instead of being silently ignored.
"""

from __future__ import annotations

import base64
import difflib
import os
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from events.errors import ConfigurationError
from events.names import StreamNames

ENV_PREFIX = "IMPRESSOX_"
SECRET_KEY_BYTES = 32
CONFIG_ENV = "IMPRESSOX_CONFIG"

_file_values: ContextVar[dict[str, Any] | None] = ContextVar("settings_file_values", default=None)


def _env(name: str, *also: str) -> AliasChoices:
    return AliasChoices(*also, ENV_PREFIX + name.upper())


class Settings(BaseSettings):
    """Everything an operator can configure. The README's table is generated from this."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    data_dir: Path = Field(
        Path(".impressox"),
        validation_alias=_env("data_dir"),
        description="Where embedded servers keep their data and logs; survives restarts.",
    )
    redis_url: str | None = Field(
        None,
        pattern=r"^(redis|rediss|unix)://",
        validation_alias=_env("redis_url", "REDIS_URL"),
        description="Redis to use (redis:// or rediss://; a Redis Cluster node is detected and"
        " used as a cluster). Unset: start a private redis-server in the data directory.",
    )
    mongo_url: str | None = Field(
        None,
        pattern=r"^mongodb(\+srv)?://",
        validation_alias=_env("mongo_url", "MONGO_URL"),
        description="MongoDB to use. Unset: start a private SecantusDB in the data directory.",
    )
    mongo_database: str = Field(
        "impressox",
        validation_alias=_env("mongo_database"),
        description="MongoDB database holding the read models.",
    )
    stream_prefix: str = Field(
        "ix",
        pattern=r"^[a-zA-Z0-9_.-]{1,32}$",
        validation_alias=_env("stream_prefix"),
        description="Prefix of every Redis key; lets several deployments share one Redis.",
    )
    partitions: int = Field(
        4,
        ge=1,
        le=1024,
        validation_alias=_env("partitions"),
        description="Partitions per high-volume category. Changing it on a live system moves"
        " keys between partitions: plan it as a migration.",
    )
    redis_appendfsync: Literal["always", "everysec", "no"] = Field(
        "everysec",
        validation_alias=_env("redis_appendfsync"),
        description="Embedded Redis AOF fsync policy: everysec may lose ~1 s of acknowledged"
        " writes on power loss, always loses none (slower).",
    )
    embedded_redis_port: int = Field(
        0, ge=0, le=65535, validation_alias=_env("embedded_redis_port"),
        description="Port of the embedded Redis; 0 picks a free one.",
    )  # fmt: skip
    embedded_mongo_port: int = Field(
        0, ge=0, le=65535, validation_alias=_env("embedded_mongo_port"),
        description="Port of the embedded MongoDB; 0 picks a free one.",
    )  # fmt: skip
    secret_key: SecretStr | None = Field(
        None,
        validation_alias=_env("secret_key"),
        description="Base64 of 32 random bytes sealing channel secrets in events. Unset: one is"
        " generated in the data directory; set it when processes run on several hosts.",
    )
    api_host: str = Field(
        "127.0.0.1",
        validation_alias=_env("api_host"),
        description="Address the API binds to. Loopback by default; set 0.0.0.0 deliberately.",
    )
    api_port: int = Field(
        8000, ge=0, le=65535, validation_alias=_env("api_port"), description="Port of the API."
    )
    modules: list[str] = Field(
        default_factory=list,
        validation_alias=_env("modules"),
        description="Extra Python modules every process imports, for their @event_type and"
        " @handler declarations (a JSON list in the environment).",
    )
    workers: list[str] | None = Field(
        None,
        validation_alias=_env("workers"),
        description="Handlers `impressox up` runs (JSON list). Unset: every registered handler.",
    )
    batch_size: int = Field(
        256, ge=1, le=10_000, validation_alias=_env("batch_size"),
        description="Entries a worker reads per XREADGROUP call and commits in one script.",
    )  # fmt: skip
    block_ms: int = Field(
        2000, ge=1, le=60_000, validation_alias=_env("block_ms"),
        description="How long an idle worker blocks in XREADGROUP before looking around.",
    )  # fmt: skip
    max_deliveries: int = Field(
        5, ge=1, le=100, validation_alias=_env("max_deliveries"),
        description="Attempts at one entry (retries and crashed deliveries) before it is"
        " dead-lettered.",
    )  # fmt: skip
    retry_backoff_ms: int = Field(
        200, ge=0, validation_alias=_env("retry_backoff_ms"),
        description="First retry delay of a failed entry; doubles per attempt, with jitter.",
    )  # fmt: skip
    retry_backoff_max_ms: int = Field(
        10_000, ge=0, validation_alias=_env("retry_backoff_max_ms"),
        description="Longest retry delay.",
    )  # fmt: skip
    handler_timeout_s: float = Field(
        30.0, gt=0, validation_alias=_env("handler_timeout_s"),
        description="A handler call running longer than this counts as a failed attempt.",
    )  # fmt: skip
    lease_ttl_ms: int = Field(
        10_000, ge=500, validation_alias=_env("lease_ttl_ms"),
        description="How long a partition stays owned by a worker that stopped renewing it:"
        " the takeover delay after a worker dies.",
    )  # fmt: skip
    shutdown_timeout_s: float = Field(
        15.0, gt=0, validation_alias=_env("shutdown_timeout_s"),
        description="On SIGTERM, how long in-flight work may take before it is cancelled.",
    )  # fmt: skip
    projections: list[str] | None = Field(
        None, validation_alias=_env("projections"),
        description="Read models `impressox up` keeps up to date (JSON list); unset: all.",
    )  # fmt: skip
    projection_batch_size: int = Field(
        1000, ge=1, le=10_000, validation_alias=_env("projection_batch_size"),
        description="Events a projector applies per bulk write; larger batches coalesce more.",
    )  # fmt: skip
    retire_grace_s: float = Field(
        30.0, ge=0, validation_alias=_env("retire_grace_s"),
        description="How long a rebuilt read model's old collection is kept after the swap.",
    )  # fmt: skip
    ready_max_lag: int = Field(
        10_000, ge=0, validation_alias=_env("ready_max_lag"),
        description="/readyz fails while any projection has more events than this to apply.",
    )  # fmt: skip
    rate_limit_per_minute: int = Field(
        1200, ge=0, validation_alias=_env("rate_limit_per_minute"),
        description="Requests per minute each API key may make (0: unlimited).",
    )  # fmt: skip
    rate_limit_burst: int = Field(
        200, ge=1, validation_alias=_env("rate_limit_burst"),
        description="Requests an API key may make at once before the per-minute rate applies.",
    )  # fmt: skip
    auth_cache_s: float = Field(
        2.0, ge=0, validation_alias=_env("auth_cache_s"),
        description="How long the API trusts a looked-up key: a revocation takes this long.",
    )  # fmt: skip
    max_wait_s: float = Field(
        10.0, gt=0, validation_alias=_env("max_wait_s"),
        description="Longest a request may wait for a read model to catch up with a write.",
    )  # fmt: skip
    ws_queue_size: int = Field(
        1000, ge=10, validation_alias=_env("ws_queue_size"),
        description="Messages queued for one WebSocket client before it is dropped with a"
        " resume position (slow clients never buffer without bound).",
    )  # fmt: skip
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("log_level"), description="Least severe level logged."
    )
    log_format: Literal["auto", "console", "json"] = Field(
        "auto",
        validation_alias=_env("log_format"),
        description="Log lines for people (console) or machines (json); auto picks by terminal.",
    )

    @field_validator("secret_key")
    @classmethod
    def _thirty_two_bytes(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(_decoded(key.get_secret_value())) != SECRET_KEY_BYTES:
            raise ValueError(f"must be base64 of {SECRET_KEY_BYTES} random bytes")
        return key

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments, then the environment, then the YAML file, then defaults."""
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {}),
        )

    def stream_names(self) -> StreamNames:
        return StreamNames(self.stream_prefix, self.partitions)

    @property
    def run_dir(self) -> Path:
        """Where a running system leaves its endpoints file and lock."""
        return self.data_dir / "run"


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


def secret_key(settings: Settings) -> bytes:
    """The key that seals channel secrets: the setting, else the data directory's own.

    The data directory's key is generated on first use and readable by its owner only.
    """
    if settings.secret_key is not None:
        return _decoded(settings.secret_key.get_secret_value())
    path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(secrets.token_bytes(SECRET_KEY_BYTES)).decode())
    key = _decoded(path.read_text().strip())
    if len(key) != SECRET_KEY_BYTES:
        raise ConfigurationError(f"{path} does not hold a valid key; restore it or remove it")
    return key


def env_name(field: str) -> str:
    """The environment variable of a setting (the conventional one where there is one)."""
    if field in ("redis_url", "mongo_url"):
        return field.upper()
    return ENV_PREFIX + field.upper()


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings, refusing unknown names and invalid values with one clear line.

    Precedence: `overrides` (command-line options), then the environment, then the YAML
    file (`config_file`, else IMPRESSOX_CONFIG), then defaults.
    """
    environ = os.environ
    path = config_file or (Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else None)
    file_values = _read_yaml(path) if path else {}
    _refuse_unknown(environ, file_values, path)
    token = _file_values.set(file_values)
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
        _file_values.reset(token)


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


def _variables_of(field: str) -> list[str]:
    alias = (
        Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    )
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [env_name(field)]


def _field_of(location: str) -> str:
    """The field a validation error location names (a field name or one of its variables)."""
    if location in Settings.model_fields:
        return location
    for field in Settings.model_fields:
        if location in _variables_of(field):
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
    variables = _variables_of(field)
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
