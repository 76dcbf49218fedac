"""Settings: environment variables over an optional YAML file over defaults.

One section per area, each in its own module here (`core`, `agent`, `rules`,
`price_sources`, `post_sources`, `notify`, `knowledge`, `chain`, `logs`); `Settings` joins
them (listed last to first: a field's place in the README's table follows them).
Reading them (the environment, the YAML file, the explained refusals) is
`impressox.settings_loader`'s.

Every setting has one environment variable (``IMPRESSOX_<NAME>``, or the conventional
``REDIS_URL`` / ``MONGO_URL``) and one YAML key (its lowercase name). A misspelt
``IMPRESSOX_`` variable or YAML key, or a value of the wrong shape, stops the program at
start with one line naming the setting, instead of being silently ignored.
"""

from __future__ import annotations

import base64
import os
import secrets
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from aggregates.destinations import DestinationPolicy
from events.errors import ConfigurationError
from events.names import StreamNames
from impressox.settings.agent import AgentSettings, require_model_credentials
from impressox.settings.chain import ChainSettings
from impressox.settings.core import CoreSettings
from impressox.settings.env import ENV_PREFIX, SECRET_KEY_BYTES, decoded
from impressox.settings.knowledge import KnowledgeSettings
from impressox.settings.logs import LogsSettings
from impressox.settings.notify import NotifySettings
from impressox.settings.post_sources import PostSourcesSettings
from impressox.settings.price_sources import PriceSourcesSettings
from impressox.settings.rules import RulesSettings
from sources.registry import watches_chain

CONFIG_ENV = "IMPRESSOX_CONFIG"

FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("settings_file_values", default=None)


class Settings(
    LogsSettings,
    ChainSettings,
    KnowledgeSettings,
    NotifySettings,
    PostSourcesSettings,
    PriceSourcesSettings,
    RulesSettings,
    AgentSettings,
    CoreSettings,
    BaseSettings,
):
    """Everything an operator can configure, in one section per area (each its own
    module beside this one). The README's table is generated from this."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _agent_models_have_credentials(self) -> Settings:
        """A model whose provider has no key fails here, at start, not on a user's turn."""
        require_model_credentials(self)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments, then the environment, then the YAML file, then defaults.

        The environment is read through our variables only (``IMPRESSOX_<NAME>`` and the
        documented standard ones): `populate_by_name` would otherwise also read each
        field's bare name, so a shell's ``WORKERS`` or ``API_HOST`` would change Impressox.
        """
        if isinstance(env_settings, EnvSettingsSource):
            ours = our_variables()
            env_settings.env_vars = {
                name: value for name, value in env_settings.env_vars.items() if name in ours
            }
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=FILE_VALUES.get() or {}),
        )

    def stream_names(self) -> StreamNames:
        return StreamNames(self.stream_prefix, self.partitions)

    def chain_rpc_urls(self) -> list[str]:
        """The nodes of CHAIN_RPC_URL, in order of preference (empty: no chain)."""
        return self.chain_rpc_url.get_secret_value().split(",") if self.chain_rpc_url else []

    def deployments_file(self) -> Path:
        """Where our contracts' deployments are recorded."""
        return self.chain_deployments or self.data_dir / "chain" / "deployments.json"

    @property
    def chain_watched(self) -> bool:
        """Whether a chain is configured here (CHAIN_RPC_URL, or a source of chain events):
        rule health also counts a watcher seen running elsewhere (`chain.presence`)."""
        return self.chain_rpc_url is not None or watches_chain(self.sources)

    @property
    def run_dir(self) -> Path:
        """Where a running system leaves its endpoints file and lock."""
        return self.data_dir / "run"


def destination_policy(settings: Settings) -> DestinationPolicy:
    """Where webhooks may point: public addresses, and what the operator allows."""
    return DestinationPolicy.allowing(settings.allowed_destinations)


def secret_key(settings: Settings) -> bytes:
    """The key that seals channel secrets: the setting, else the data directory's own.

    The data directory's key is generated on first use and readable by its owner only.
    """
    if settings.secret_key is not None:
        return decoded(settings.secret_key.get_secret_value())
    path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(secrets.token_bytes(SECRET_KEY_BYTES)).decode())
    key = decoded(path.read_text().strip())
    if len(key) != SECRET_KEY_BYTES:
        raise ConfigurationError(f"{path} does not hold a valid key; restore it or remove it")
    return key


def env_name(field: str) -> str:
    """The environment variable of a setting (the conventional one where there is one)."""
    if field in ("redis_url", "mongo_url", "chain_rpc_url"):
        return field.upper()
    return ENV_PREFIX + field.upper()


def our_variables() -> frozenset[str]:
    """Every environment variable a setting reads, lowercased as the env source keys them."""
    return frozenset(
        name.lower() for field in Settings.model_fields for name in variables_of(field)
    )


def variables_of(field: str) -> list[str]:
    alias = (
        Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    )
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [env_name(field)]
