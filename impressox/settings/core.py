"""The data directory, the servers, the runtime and the API."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from aggregates.user import MAX_ACTIVE_KEYS
from impressox.settings.env import SECRET_KEY_BYTES, decoded
from impressox.settings.env import env_alias as _env


class CoreSettings(BaseModel):
    """The data directory, the servers, the runtime and the API."""

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

    @field_validator("secret_key")
    @classmethod
    def _thirty_two_bytes(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(decoded(key.get_secret_value())) != SECRET_KEY_BYTES:
            raise ValueError(f"must be base64 of {SECRET_KEY_BYTES} random bytes")
        return key
