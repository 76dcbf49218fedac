"""Model specs: which provider and model answers for a node of the agent's graph.

A spec is ``provider:model`` (``openai:gpt-4o-mini``, ``ollama:llama3.1:8b``: the model
is everything after the first colon); ``offline`` alone is the embedded offline model.
This module knows the grammar and what each provider needs configured, and nothing of
langchain, so the settings can refuse a bad spec or a missing key when they load,
before any model is built (`agent.models` builds them). The keys and URLs come in as
`ProviderAccess` and the whole configuration as `ModelsConfig`, both filled in by the
composition root: nothing here reads the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from events.errors import ConfigurationError

OFFLINE = "offline"
OFFLINE_MODEL = "impressox-offline"
PROVIDERS = (OFFLINE, "openai", "anthropic", "ollama", "openai-compatible")
AGENT_NODES = ("router", "market", "alerts", "research", "account", "chat")
"""The graph's nodes that call a model (`agent.graph`); each may have its own."""


PROVIDER_VARIABLES = {
    "openai": "IMPRESSOX_OPENAI_API_KEY (or OPENAI_API_KEY)",
    "anthropic": "IMPRESSOX_ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY)",
    "openai-compatible": "IMPRESSOX_OPENAI_COMPATIBLE_URL",
}
"""Provider -> the variables of what it cannot work without. Ollama needs none: its URL
has a default."""


@dataclass(frozen=True)
class ProviderAccess:
    """The keys and URLs the providers are reached with."""

    openai_api_key: SecretStr | None
    openai_base_url: str
    anthropic_api_key: SecretStr | None
    anthropic_base_url: str
    ollama_url: str
    openai_compatible_url: str | None
    openai_compatible_api_key: SecretStr | None

    def missing(self, provider: str) -> str | None:
        """The variables to set for `provider` when what it cannot work without is unset."""
        required = {
            "openai": self.openai_api_key,
            "anthropic": self.anthropic_api_key,
            "openai-compatible": self.openai_compatible_url,
        }
        if provider in required and required[provider] is None:
            return PROVIDER_VARIABLES[provider]
        return None


@dataclass(frozen=True)
class ModelsConfig:
    """Which model answers for each node, what it falls back to, and how it is reached."""

    model: str
    node_models: Mapping[str, str]
    fallbacks: Sequence[str]
    timeout_s: float
    max_retries: int
    access: ProviderAccess
    symbols: Sequence[str]
    """The pairs the configured price sources follow (what the offline model knows)."""


class InvalidModelSpecError(ConfigurationError):
    """A spec that is not ``provider:model`` with a known provider."""


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_spec(text: str) -> ModelSpec:
    """``provider:model`` as a `ModelSpec`, or an error saying how to write one."""
    provider, _, model = text.strip().partition(":")
    if provider not in PROVIDERS:
        raise InvalidModelSpecError(
            f"model {text!r}: unknown provider {provider!r}; write provider:model with"
            f" provider one of {', '.join(PROVIDERS)}"
        )
    if provider == OFFLINE:
        if model not in ("", OFFLINE_MODEL):
            raise InvalidModelSpecError(
                f"model {text!r}: the offline provider has one model, {OFFLINE_MODEL}"
            )
        return ModelSpec(OFFLINE, OFFLINE_MODEL)
    if not model.strip():
        raise InvalidModelSpecError(
            f"model {text!r}: name the model after the provider, e.g. {provider}:<model>"
        )
    return ModelSpec(provider, model.strip())


def require_credentials(specs: Iterable[ModelSpec], access: ProviderAccess) -> None:
    """Refuse a spec whose provider lacks its key or URL in `access`, naming the
    setting to set (never its value)."""
    for spec in specs:
        missing = access.missing(spec.provider)
        if missing is not None:
            raise ConfigurationError(f"model {spec} needs {missing}: set it")
