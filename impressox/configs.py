"""Each area's configuration, filled in from the settings by the composition root.

The areas (the agent's models, the knowledge base, delivery) take these values, never
the settings: this is the one place that knows which setting feeds which of them.
"""

from __future__ import annotations

from agent.specs import ModelsConfig
from impressox.settings import Settings, destination_policy
from impressox.settings.agent import provider_access
from knowledge.config import KnowledgeConfig, OpenAIEmbeddingsConfig
from notify.config import NotifyConfig
from notify.retry import RetryPolicy


def models_config(settings: Settings) -> ModelsConfig:
    return ModelsConfig(
        model=settings.agent_model,
        node_models=settings.agent_node_models,
        fallbacks=settings.agent_fallbacks,
        timeout_s=settings.agent_timeout_s,
        max_retries=settings.agent_max_retries,
        access=provider_access(settings),
        symbols=[
            *settings.simulator_symbols,
            *settings.exchange_symbols,
            *settings.coingecko_coins.values(),
        ],
    )


def knowledge_config(settings: Settings) -> KnowledgeConfig:
    return KnowledgeConfig(
        chroma_url=settings.chroma_url,
        chroma_path=settings.data_dir / "chroma",
        prefix=settings.stream_prefix,
        embeddings=settings.embeddings,
        openai=OpenAIEmbeddingsConfig(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            model=settings.openai_embedding_model,
            dimension=settings.openai_embedding_dimensions,
        ),
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
    )


def notify_config(settings: Settings) -> NotifyConfig:
    return NotifyConfig(
        telegram_token=settings.telegram_bot_token,
        telegram_api_url=settings.telegram_api_url,
        discord_token=settings.discord_bot_token,
        discord_api_url=settings.discord_api_url,
        timeout_s=settings.notify_timeout_s,
        retry=RetryPolicy(
            max_attempts=settings.notify_max_attempts,
            backoff_s=settings.notify_backoff_ms / 1000,
            backoff_max_s=settings.notify_backoff_max_ms / 1000,
            wait_max_s=settings.notify_wait_max_s,
        ),
        rate_per_minute=settings.notify_rate_per_minute,
        burst=settings.notify_burst,
        user_cache_s=settings.notify_user_cache_s,
        release_interval_s=settings.notify_release_interval_s,
        destinations=destination_policy(settings),
    )
