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
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from agent.specs import (
    AGENT_NODES,
    InvalidModelSpecError,
    ModelSpec,
    parse_spec,
    require_credentials,
)
from aggregates.destinations import DestinationPolicy
from aggregates.user import MAX_ACTIVE_KEYS
from chain.urls import redact_rpc_url
from events.errors import ConfigurationError
from events.names import StreamNames
from sources.registry import watches_chain

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
    web_dir: Path | None = Field(
        None,
        validation_alias=_env("web_dir"),
        description="The built web page (index.html and assets/) the API serves at /. Unset:"
        " web/dist of the source tree, built by `make web` (and by `make run`).",
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
        description="How long a partition (or a chain) stays owned by a worker (or chain"
        " watcher) that stopped renewing it: the takeover delay after one dies.",
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
    stall_after_s: float = Field(
        60.0, gt=0, validation_alias=_env("stall_after_s"),
        description="A handler's partition with work waiting that has not advanced for this"
        " long is stalled: /readyz fails naming it; metrics and `impressox events info` show"
        " it.",
    )  # fmt: skip
    rate_limit_per_minute: int = Field(
        1200, ge=0, validation_alias=_env("rate_limit_per_minute"),
        description="Requests per minute each API key may make (0: unlimited); see also"
        " IMPRESSOX_USER_RATE_LIMIT_PER_MINUTE.",
    )  # fmt: skip
    rate_limit_burst: int = Field(
        200, ge=1, validation_alias=_env("rate_limit_burst"),
        description="Requests an API key may make at once before the per-minute rate applies.",
    )  # fmt: skip
    user_rate_limit_per_minute: int = Field(
        2400, ge=0, validation_alias=_env("user_rate_limit_per_minute"),
        description="Requests per minute all of one user's API keys may make together, on"
        " top of each key's own limit (0: unlimited).",
    )  # fmt: skip
    user_rate_limit_burst: int = Field(
        400, ge=1, validation_alias=_env("user_rate_limit_burst"),
        description="Requests a user's keys may make at once before their per-minute rate"
        " applies.",
    )  # fmt: skip
    anonymous_rate_limit_per_minute: int = Field(
        60, ge=0, validation_alias=_env("anonymous_rate_limit_per_minute"),
        description="Requests per minute one client address may make without a valid API"
        " key (401s count; 429 beyond; 0: unlimited). Behind a proxy, see X-Forwarded-For.",
    )  # fmt: skip
    anonymous_rate_limit_burst: int = Field(
        30, ge=1, validation_alias=_env("anonymous_rate_limit_burst"),
        description="Requests without a valid key one address may make at once.",
    )  # fmt: skip
    max_api_keys_per_user: int = Field(
        MAX_ACTIVE_KEYS, ge=1, validation_alias=_env("max_api_keys_per_user"),
        description="Active (unrevoked) API keys one user may hold; issuing another is 409.",
    )  # fmt: skip
    max_body_bytes: int = Field(
        65_536, ge=1024, validation_alias=_env("max_body_bytes"),
        description="Largest request body the API reads (413 beyond it), except on the"
        " endpoints that declare their own (ingest, knowledge documents).",
    )  # fmt: skip
    auth_cache_s: float = Field(
        2.0, ge=0, validation_alias=_env("auth_cache_s"),
        description="How long the API trusts a looked-up key. Revocations bite at once (the"
        " API reads them in the users' log); this bounds how long one takes if it cannot.",
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
    ws_messages_per_minute: int = Field(
        120, ge=0, validation_alias=_env("ws_messages_per_minute"),
        description="Messages per minute a WebSocket client may send on one connection"
        " (subscribe, unsubscribe, anything); beyond its burst it is closed with 4429"
        " (0: unlimited).",
    )  # fmt: skip
    ws_message_burst: int = Field(
        60, ge=1, validation_alias=_env("ws_message_burst"),
        description="Messages a WebSocket client may send at once on one connection.",
    )  # fmt: skip
    demo: bool = Field(
        True, validation_alias=_env("demo"),
        description="On the first run, create a demo trader with one rule on BTC/USDT (and"
        " print its key once), so alerts arrive within a minute of `make run`.",
    )  # fmt: skip
    # -- the agent --
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
    # -- rule engine --
    rules_snapshot_s: float = Field(
        60.0, gt=0, validation_alias=_env("rules_snapshot_s"),
        description="How often the rule engine saves a snapshot of the rules it knows, so a"
        " restart reads only the rules' log after it.",
    )  # fmt: skip
    rules_warmup_s: float = Field(
        300.0, ge=0, validation_alias=_env("rules_warmup_s"),
        description="Ticks a starting rule engine replays (seconds before its last handled"
        " tick) to restore previous prices and windows; windows longer than this refill.",
    )  # fmt: skip
    # -- price sources --
    sources: list[str] = Field(
        default_factory=lambda: ["simulator", "posts-import"], validation_alias=_env("sources"),
        description="Sources `impressox up` runs, one process each (JSON list of simulator,"
        " exchange, coingecko, replay, x, rss, posts-import; [] for none). posts-import"
        " without IMPRESSOX_POSTS_IMPORT_FILE loads the demo posts once (re-runs add nothing).",
    )  # fmt: skip
    source_stale_after_s: float = Field(
        120.0, ge=0, validation_alias=_env("source_stale_after_s"),
        description="A live source that brought no new price of a symbol for this long appends"
        " one source.stale event for it (0: never).",
    )  # fmt: skip
    simulator_symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
        validation_alias=_env("simulator_symbols"),
        description="Symbols the market simulator makes up prices for (JSON list).",
    )  # fmt: skip
    simulator_start_prices: dict[str, float] = Field(
        default_factory=dict, validation_alias=_env("simulator_start_prices"),
        description='Starting price per simulated symbol (JSON object, e.g. {"BTC/USDT": 95000});'
        " others start at a typical price. Used on the first start, or with a seed.",
    )  # fmt: skip
    simulator_seed: int | None = Field(
        None, validation_alias=_env("simulator_seed"),
        description="Seed of the simulated market: set, the same seed walks the same price"
        " paths from the start prices; unset, each start takes a fresh path from the last"
        " recorded price of each symbol (the market goes on where it stopped).",
    )  # fmt: skip
    simulator_rate_hz: float = Field(
        1.0, gt=0, le=1000, validation_alias=_env("simulator_rate_hz"),
        description="Simulated ticks per second, per symbol.",
    )  # fmt: skip
    simulator_volatility: float = Field(
        0.8, ge=0, le=20, validation_alias=_env("simulator_volatility"),
        description="Annualised volatility of simulated prices (0.8: about 0.85 % an hour).",
    )  # fmt: skip
    exchange_id: str = Field(
        "binance", validation_alias=_env("exchange_id"),
        description="The ccxt exchange id the exchange source reads (binance, kraken, ...).",
    )  # fmt: skip
    exchange_symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
        validation_alias=_env("exchange_symbols"),
        description="Spot symbols the exchange source follows (JSON list, ccxt's BASE/QUOTE).",
    )  # fmt: skip
    exchange_streaming: bool = Field(
        True, validation_alias=_env("exchange_streaming"),
        description="Stream tickers over the exchange's WebSocket where ccxt can; else poll.",
    )  # fmt: skip
    exchange_poll_interval_s: float = Field(
        5.0, gt=0, validation_alias=_env("exchange_poll_interval_s"),
        description="Seconds between ticker polls when not streaming.",
    )  # fmt: skip
    exchange_api_urls: dict[str, Any] = Field(
        default_factory=dict, validation_alias=_env("exchange_api_urls"),
        description="Entries of the exchange's ccxt urls.api to replace (JSON object), e.g. a"
        " regional endpoint or a proxy.",
    )  # fmt: skip
    exchange_options: dict[str, Any] = Field(
        default_factory=dict, validation_alias=_env("exchange_options"),
        description="ccxt options of the exchange (JSON object), e.g."
        ' {"defaultType": "spot"}.',
    )  # fmt: skip
    coingecko_coins: dict[str, str] = Field(
        default_factory=lambda: {"bitcoin": "BTC/USD", "ethereum": "ETH/USD", "solana": "SOL/USD"},
        validation_alias=_env("coingecko_coins"),
        description="CoinGecko coin id -> symbol (JSON object); the quote is the vs currency.",
    )  # fmt: skip
    coingecko_base_url: str = Field(
        "https://api.coingecko.com/api/v3", pattern=r"^https?://",
        validation_alias=_env("coingecko_base_url"),
        description="CoinGecko API root; https://pro-api.coingecko.com/api/v3 for a Pro key.",
    )  # fmt: skip
    coingecko_api_key: SecretStr | None = Field(
        None, validation_alias=_env("coingecko_api_key"),
        description="CoinGecko Demo or Pro API key (sent as its header, never logged).",
    )  # fmt: skip
    coingecko_poll_interval_s: float = Field(
        60.0, gt=0, validation_alias=_env("coingecko_poll_interval_s"),
        description="Seconds between CoinGecko polls; keep within your plan's calls per minute.",
    )  # fmt: skip
    replay_file: Path | None = Field(
        None, validation_alias=_env("replay_file"),
        description="CSV or JSON-lines price history the replay source appends.",
    )  # fmt: skip
    replay_speed: str = Field(
        "1", pattern=r"^(max|[0-9]+(\.[0-9]+)?x?)$", validation_alias=_env("replay_speed"),
        description="Replay pace: 1 as recorded, 10 ten times faster, max as fast as possible.",
    )  # fmt: skip
    # -- post sources --
    x_bearer_token: SecretStr | None = Field(
        None, validation_alias=_env("x_bearer_token"),
        description="X API v2 app bearer token the x source sends (never logged).",
    )  # fmt: skip
    x_api_url: str = Field(
        "https://api.x.com", pattern=r"^https?://", validation_alias=_env("x_api_url"),
        description="X API root (the part before /2/...).",
    )  # fmt: skip
    x_queries: list[str] = Field(
        default_factory=list, validation_alias=_env("x_queries"),
        description="X recent-search queries the x source follows besides users' watched"
        ' keywords (JSON list, X query syntax, e.g. ["$SOL -is:retweet"]).',
    )  # fmt: skip
    x_accounts: list[str] = Field(
        default_factory=list, validation_alias=_env("x_accounts"),
        description="X handles whose timelines the x source reads besides users' watched"
        " accounts (JSON list).",
    )  # fmt: skip
    x_follow_watches: bool = Field(
        True, validation_alias=_env("x_follow_watches"),
        description="Also follow every account and keyword users watch (read from the"
        " watches' log); the rss source likewise follows watched feed URLs.",
    )  # fmt: skip
    x_poll_interval_s: float = Field(
        60.0, gt=0, validation_alias=_env("x_poll_interval_s"),
        description="Seconds between X polls; rate limits are honoured on top of this.",
    )  # fmt: skip
    x_max_pages: int = Field(
        5, ge=1, le=100, validation_alias=_env("x_max_pages"),
        description="Pages of up to 100 posts read per query and poll (older ones are left).",
    )  # fmt: skip
    rss_feeds: list[str] = Field(
        default_factory=list, validation_alias=_env("rss_feeds"),
        description="RSS or Atom feed URLs the rss source polls (JSON list).",
    )  # fmt: skip
    rss_poll_interval_s: float = Field(
        300.0, gt=0, validation_alias=_env("rss_poll_interval_s"),
        description="Seconds between polls of each feed (unchanged feeds cost a 304).",
    )  # fmt: skip
    posts_import_file: Path | None = Field(
        None, validation_alias=_env("posts_import_file"),
        description="JSON-lines posts the posts-import source appends (unset: the demo set).",
    )  # fmt: skip
    # -- notification delivery --
    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("telegram_bot_token"),
        description="Token of the Telegram bot that delivers alerts and the agent's replies"
        " (from @BotFather); set, `impressox up` also runs the bot users talk to the agent"
        " through. Unset: deliveries to Telegram fail as not configured (and are"
        " dead-lettered).",
    )  # fmt: skip
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot", pattern=r"^https?://",
        validation_alias=_env("telegram_api_url"),
        description="Telegram Bot API base URL; the token is appended (or put {token} where it"
        " goes), e.g. a self-hosted Bot API server.",
    )  # fmt: skip
    discord_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("discord_bot_token"),
        description="Token of the Discord bot that posts alerts in channels and DMs. Unset:"
        " Discord bot channels fail as not configured (webhook channels need no token).",
    )  # fmt: skip
    discord_api_url: str = Field(
        "https://discord.com/api/v10", pattern=r"^https?://",
        validation_alias=_env("discord_api_url"),
        description="Discord REST API base URL, for the bot and for executing webhooks.",
    )  # fmt: skip
    discord_gateway_url: str = Field(
        "wss://gateway.discord.gg/", pattern=r"^wss?://",
        validation_alias=_env("discord_gateway_url"),
        description="Discord gateway WebSocket URL the bot first connects to (Discord's"
        " READY names where to resume).",
    )  # fmt: skip
    notify_timeout_s: float = Field(
        10.0, gt=0, validation_alias=_env("notify_timeout_s"),
        description="Longest one request to a channel (Telegram, Discord, a webhook) may take.",
    )  # fmt: skip
    notify_max_attempts: int = Field(
        4, ge=1, le=20, validation_alias=_env("notify_max_attempts"),
        description="Tries of one delivery through timeouts, 5xx and 429s before it is recorded"
        " as failed and the alert dead-lettered.",
    )  # fmt: skip
    notify_backoff_ms: int = Field(
        500, ge=0, validation_alias=_env("notify_backoff_ms"),
        description="First retry delay of a delivery; doubles per attempt, full jitter; a"
        " channel's Retry-After, if longer, wins.",
    )  # fmt: skip
    notify_backoff_max_ms: int = Field(
        8000, ge=0, validation_alias=_env("notify_backoff_max_ms"),
        description="Longest retry delay of a delivery (before Retry-After).",
    )  # fmt: skip
    notify_wait_max_s: float = Field(
        15.0, ge=0, validation_alias=_env("notify_wait_max_s"),
        description="Longest one alert waits in place (retries, rate limits) while it holds its"
        " partition: beyond, rate-limited deliveries are held for later and failing ones given"
        " up. Keep it under IMPRESSOX_HANDLER_TIMEOUT_S.",
    )  # fmt: skip
    notify_rate_per_minute: int = Field(
        20, ge=0, validation_alias=_env("notify_rate_per_minute"),
        description="Messages per minute to one channel of one user (0: unlimited); more are"
        " delayed, never dropped.",
    )  # fmt: skip
    notify_burst: int = Field(
        5, ge=1, validation_alias=_env("notify_burst"),
        description="Messages one channel of one user may get at once before the rate applies.",
    )  # fmt: skip
    notify_user_cache_s: float = Field(
        5.0, ge=0, validation_alias=_env("notify_user_cache_s"),
        description="How long a notify worker reuses a loaded user: a channel or quiet-hours"
        " change takes this long to apply to deliveries.",
    )  # fmt: skip
    notify_release_interval_s: float = Field(
        1.0, gt=0, validation_alias=_env("notify_release_interval_s"),
        description="How often notify workers look for held deliveries that are due (quiet"
        " hours over, rate limit refilled).",
    )  # fmt: skip
    allowed_destinations: list[str] = Field(
        [], validation_alias=_env("allowed_destinations"),
        description="Hosts and networks users' URLs (webhooks, watched RSS feeds) may reach"
        " although they are not public"
        " (JSON list of host names, addresses or CIDR networks, e.g. [\"hooks.corp\","
        " \"10.20.0.0/16\"]); plain http is accepted only to these. Empty: public"
        " addresses only. Cloud metadata addresses stay refused.",
    )  # fmt: skip
    # -- knowledge base --
    chroma_url: str | None = Field(
        None, pattern=r"^https?://", validation_alias=_env("chroma_url", "CHROMA_URL"),
        description="Chroma server holding the knowledge base. Unset: an embedded Chroma in"
        " the data directory (chroma/).",
    )  # fmt: skip
    embeddings: Literal["hashing", "minilm", "openai"] = Field(
        "hashing", validation_alias=_env("embeddings"),
        description="How the knowledge base embeds text: hashing (no model), minilm (the"
        " minilm extra) or openai. Changing it needs `impressox knowledge reindex`.",
    )  # fmt: skip
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=_env("openai_api_key", "OPENAI_API_KEY"),
        description="Key for OpenAI embeddings (sent as a bearer token, never logged).",
    )  # fmt: skip
    openai_base_url: str = Field(
        "https://api.openai.com/v1", pattern=r"^https?://",
        validation_alias=_env("openai_base_url"),
        description="Root of an OpenAI-compatible API serving /embeddings.",
    )  # fmt: skip
    openai_embedding_model: str = Field(
        "text-embedding-3-small", min_length=1, validation_alias=_env("openai_embedding_model"),
        description="OpenAI embedding model.",
    )  # fmt: skip
    openai_embedding_dimensions: int = Field(
        1536, ge=1, le=8192, validation_alias=_env("openai_embedding_dimensions"),
        description="Length of OpenAI embedding vectors (text-embedding-3 models can shorten"
        " theirs; others must match the model's own).",
    )  # fmt: skip
    chunk_tokens: int = Field(
        256, ge=16, le=8192, validation_alias=_env("chunk_tokens"),
        description="Longest chunk of a document the knowledge base indexes, in tokens.",
    )  # fmt: skip
    chunk_overlap_tokens: int = Field(
        32, ge=0, le=4096, validation_alias=_env("chunk_overlap_tokens"),
        description="Tokens consecutive chunks share, so no passage is cut out of context;"
        " less than IMPRESSOX_CHUNK_TOKENS.",
    )  # fmt: skip
    chain_rpc_url: SecretStr | None = Field(
        None,
        validation_alias=_env("chain_rpc_url", "CHAIN_RPC_URL"),
        description="JSON-RPC URL of the chain to watch (http or https); several, comma-separated,"
        " for failover. A secret: a provider's URL holds its key. Unset: no chain is watched.",
    )
    chain: Literal["embedded", "off"] = Field(
        "embedded", validation_alias=_env("chain"),
        description="`impressox up` without CHAIN_RPC_URL: `embedded` runs a local chain (anvil"
        " from contracts/node_modules, our contracts deployed, simulated activity, the chain"
        " watcher); `off` runs no chain.",
    )  # fmt: skip
    embedded_chain_port: int = Field(
        0, ge=0, le=65535, validation_alias=_env("embedded_chain_port"),
        description="Port of the embedded chain's JSON-RPC; 0 picks a free one.",
    )  # fmt: skip
    chain_simulate_every_s: float = Field(
        3.0, ge=0.1, le=3600, validation_alias=_env("chain_simulate_every_s"),
        description="Seconds between the embedded chain's simulated transactions.",
    )  # fmt: skip
    chain_id: int | None = Field(
        None, ge=1, le=2**63 - 1, validation_alias=_env("chain_id"),
        description="The chain CHAIN_RPC_URL must serve, checked at start. Unset: the first"
        " node's.",
    )  # fmt: skip
    chain_confirmations: dict[int, int] = Field(
        default_factory=lambda: {1: 12, 31337: 2},
        validation_alias=_env("chain_confirmations"),
        description="Blocks deep a chain event must be to be confirmed, by chain id (JSON); a"
        " chain not named here is refused until it is.",
    )
    chain_reorg_depth: int = Field(
        64, ge=1, le=10_000, validation_alias=_env("chain_reorg_depth"),
        description="The deepest reorg the watcher follows (the recent blocks it keeps; at least"
        " every chain's confirmations). A deeper one stops it for an operator to look.",
    )  # fmt: skip
    chain_start_block: int | None = Field(
        None, ge=0, validation_alias=_env("chain_start_block"),
        description="The block a chain with no cursor yet starts at. Unset: its head at the"
        " watcher's first start.",
    )  # fmt: skip
    chain_poll_interval_s: float = Field(
        0.25, gt=0, le=60, validation_alias=_env("chain_poll_interval_s"),
        description="How often the watcher asks for the next block once it is due (it learns"
        " the chain's pace and sleeps until then).",
    )  # fmt: skip
    chain_range_blocks: int = Field(
        2000, ge=1, le=1_000_000, validation_alias=_env("chain_range_blocks"),
        description="Most blocks per eth_getLogs when catching up or backfilling; shrunk to what"
        " the node serves, grown back after.",
    )  # fmt: skip
    chain_rpc_timeout_s: float = Field(
        10.0, gt=0, le=300, validation_alias=_env("chain_rpc_timeout_s"),
        description="Timeout of one JSON-RPC call (a timed-out eth_getLogs range is shrunk).",
    )  # fmt: skip
    chain_deployments: Path | None = Field(
        None,
        validation_alias=_env("chain_deployments"),
        description="The deployments file naming our contracts per chain (always watched, decoded"
        " with our ABIs). Unset: chain/deployments.json in the data directory, if it exists.",
    )
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

    @field_validator("allowed_destinations")
    @classmethod
    def _destinations(cls, entries: list[str]) -> list[str]:
        DestinationPolicy.allowing(entries)
        return entries

    @field_validator("chain_rpc_url")
    @classmethod
    def _rpc_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        urls = [url.strip() for url in value.get_secret_value().split(",")]
        for url in urls:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(
                    f"{redact_rpc_url(url)} is not an http(s) URL (several are separated by"
                    " commas; ws:// is not supported: give the node's HTTP URL)"
                )
        return SecretStr(",".join(urls))

    @field_validator("chain_confirmations")
    @classmethod
    def _positive_confirmations(cls, table: dict[int, int]) -> dict[int, int]:
        for chain_id, blocks in table.items():
            if chain_id < 1 or blocks < 1:
                raise ValueError(f"chain {chain_id}: chain ids and confirmations are 1 or more")
        return table

    @model_validator(mode="after")
    def _confirmations_within_reorg_depth(self) -> Settings:
        for chain_id, blocks in self.chain_confirmations.items():
            if blocks > self.chain_reorg_depth:
                raise ConfigurationError(
                    f"invalid setting IMPRESSOX_CHAIN_CONFIRMATIONS: chain {chain_id} waits"
                    f" {blocks} blocks, more than IMPRESSOX_CHAIN_REORG_DEPTH"
                    f" ({self.chain_reorg_depth}) keeps"
                )
        return self

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

    @model_validator(mode="after")
    def _agent_models_have_credentials(self) -> Settings:
        """A model whose provider has no key fails here, at start, not on a user's turn."""
        specs = [self.agent_model, *self.agent_node_models.values(), *self.agent_fallbacks]
        require_credentials([parse_spec(spec) for spec in specs], self)
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
            ours = _our_variables()
            env_settings.env_vars = {
                name: value for name, value in env_settings.env_vars.items() if name in ours
            }
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {}),
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


def _spec(text: str) -> ModelSpec:
    try:
        return parse_spec(text)
    except InvalidModelSpecError as error:
        raise ValueError(str(error)) from None


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


def destination_policy(settings: Settings) -> DestinationPolicy:
    """Where webhooks may point: public addresses, and what the operator allows."""
    return DestinationPolicy.allowing(settings.allowed_destinations)


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
    if field in ("redis_url", "mongo_url", "chain_rpc_url"):
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


def _our_variables() -> frozenset[str]:
    """Every environment variable a setting reads, lowercased as the env source keys them."""
    return frozenset(
        name.lower() for field in Settings.model_fields for name in _variables_of(field)
    )


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
