"""Price sources: the simulator, exchanges, CoinGecko, file replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from impressox.settings.env import env_alias as _env


class PriceSourcesSettings(BaseModel):
    """Price sources: the simulator, exchanges, CoinGecko, file replay."""

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
