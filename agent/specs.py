"""Model specs: which provider and model answers for a node of the agent's graph.

A spec is ``provider:model`` (``openai:gpt-4o-mini``, ``ollama:llama3.1:8b``: the model
is everything after the first colon); ``offline`` alone is the embedded offline model.
This module knows the grammar and what each provider needs configured, and nothing of
langchain, so the settings can refuse a bad spec or a missing key when they load,
before any model is built (`agent.models` builds them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from events.errors import ConfigurationError

OFFLINE = "offline"
OFFLINE_MODEL = "impressox-offline"
PROVIDERS = (OFFLINE, "openai", "anthropic", "ollama", "openai-compatible")
AGENT_NODES = ("router", "market", "alerts", "research", "account", "chat")
"""The graph's nodes that call a model (`agent.graph`); each may have its own."""

REQUIRED_SETTINGS = {
    "openai": ("openai_api_key", "IMPRESSOX_OPENAI_API_KEY (or OPENAI_API_KEY)"),
    "anthropic": ("anthropic_api_key", "IMPRESSOX_ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY)"),
    "openai-compatible": ("openai_compatible_url", "IMPRESSOX_OPENAI_COMPATIBLE_URL"),
}
"""Provider -> (the setting it cannot work without, its variables). Ollama needs none:
its URL has a default."""


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


def require_credentials(specs: Iterable[ModelSpec], settings: object) -> None:
    """Refuse a spec whose provider lacks its key or URL in `settings`, naming the
    setting to set (never its value)."""
    for spec in specs:
        required = REQUIRED_SETTINGS.get(spec.provider)
        if required is not None and getattr(settings, required[0], None) is None:
            raise ConfigurationError(f"model {spec} needs {required[1]}: set it")
