"""The agent: its persona, each node's model and fallbacks, and the providers' keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr, field_validator

from agent.specs import (
    AGENT_NODES,
    InvalidModelSpecError,
    ModelSpec,
    ProviderAccess,
    parse_spec,
    require_credentials,
)

if TYPE_CHECKING:
    from impressox.settings import Settings
from impressox.settings.env import env_alias as _env


class AgentSettings(BaseModel):
    """The agent: its persona, each node's model and fallbacks, and the providers' keys."""

    agent_persona: Path | None = Field(
        None, validation_alias=_env("agent_persona"),
        description="YAML file of the agent's persona (name, bio, style, topics, examples)."
        " Unset: the built-in one.",
    )  # fmt: skip
    agent_model: str = Field(
        "offline", validation_alias=_env("agent_model"),
        description="The agent's model, provider:model: offline (the embedded deterministic"
        " model), openai:gpt-4o-mini, anthropic:claude-sonnet-4-5, ollama:llama3.1, or"
        " openai-compatible:<model> at IMPRESSOX_OPENAI_COMPATIBLE_URL.",
    )  # fmt: skip
    agent_node_models: dict[str, str] = Field(
        default_factory=dict, validation_alias=_env("agent_node_models"),
        description="A model of their own for some graph nodes (JSON object node -> spec;"
        " nodes: router, market, alerts, research, account, chat), e.g. a small router.",
    )  # fmt: skip
    agent_fallbacks: list[str] = Field(
        default_factory=list, validation_alias=_env("agent_fallbacks"),
        description="Models tried in order when a node's model fails after its retries"
        ' (JSON list of specs, e.g. ["ollama:llama3.1", "offline"]).',
    )  # fmt: skip
    agent_timeout_s: float = Field(
        60.0, gt=0, validation_alias=_env("agent_timeout_s"),
        description="Longest one request to a model provider may take before it is retried.",
    )  # fmt: skip
    agent_max_retries: int = Field(
        2, ge=0, le=10, validation_alias=_env("agent_max_retries"),
        description="Retries of a model request through timeouts, 429s and 5xx before the"
        " next fallback is tried.",
    )  # fmt: skip
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=_env("anthropic_api_key", "ANTHROPIC_API_KEY"),
        description="Key for Anthropic models (never logged).",
    )  # fmt: skip
    anthropic_base_url: str = Field(
        "https://api.anthropic.com", pattern=r"^https?://",
        validation_alias=_env("anthropic_base_url"),
        description="Root of the Anthropic API (the part before /v1/messages).",
    )  # fmt: skip
    ollama_url: str = Field(
        "http://127.0.0.1:11434", pattern=r"^https?://", validation_alias=_env("ollama_url"),
        description="Ollama server for ollama:<model> specs.",
    )  # fmt: skip
    openai_compatible_url: str | None = Field(
        None, pattern=r"^https?://", validation_alias=_env("openai_compatible_url"),
        description="Root of an OpenAI-compatible chat API (vLLM, LM Studio, OpenRouter...),"
        " the part before /chat/completions, for openai-compatible:<model> specs.",
    )  # fmt: skip
    openai_compatible_api_key: SecretStr | None = Field(
        None, validation_alias=_env("openai_compatible_api_key"),
        description="Key for IMPRESSOX_OPENAI_COMPATIBLE_URL, if it needs one (never logged).",
    )  # fmt: skip

    @field_validator("agent_model")
    @classmethod
    def _a_model_spec(cls, spec: str) -> str:
        return str(_spec(spec))

    @field_validator("agent_fallbacks")
    @classmethod
    def _model_specs(cls, specs: list[str]) -> list[str]:
        return [str(_spec(spec)) for spec in specs]

    @field_validator("agent_node_models")
    @classmethod
    def _node_model_specs(cls, models: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(models) - set(AGENT_NODES))
        if unknown:
            raise ValueError(f"unknown node {unknown[0]!r} (nodes: {', '.join(AGENT_NODES)})")
        return {node: str(_spec(spec)) for node, spec in models.items()}

    def model_specs(self) -> list[ModelSpec]:
        """Every model the agent may use: the default, each node's, and the fallbacks."""
        specs = [self.agent_model, *self.agent_node_models.values(), *self.agent_fallbacks]
        return [parse_spec(spec) for spec in specs]


def _spec(text: str) -> ModelSpec:
    try:
        return parse_spec(text)
    except InvalidModelSpecError as error:
        raise ValueError(str(error)) from None


def provider_access(settings: Settings) -> ProviderAccess:
    """The keys and URLs the agent's model providers are reached with (OpenAI's are the
    knowledge base's too: its section holds them)."""
    return ProviderAccess(
        openai_api_key=settings.openai_api_key,
        openai_base_url=settings.openai_base_url,
        anthropic_api_key=settings.anthropic_api_key,
        anthropic_base_url=settings.anthropic_base_url,
        ollama_url=settings.ollama_url,
        openai_compatible_url=settings.openai_compatible_url,
        openai_compatible_api_key=settings.openai_compatible_api_key,
    )


def require_model_credentials(settings: Settings) -> None:
    """Refuse, at start, a model whose provider has no key (not on a user's turn)."""
    require_credentials(settings.model_specs(), provider_access(settings))
