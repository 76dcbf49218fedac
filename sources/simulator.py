"""A seeded market: per-symbol geometric Brownian motion with jumps, and traded volume.

Nothing here is a market. Every tick says `simulated: true`, its venue is
``simulator``, and the registry lists the source as simulated, so no chart, alert or
answer can pass these prices off as real ones.

Each symbol walks on its own random generator seeded from (seed, symbol): adding a
symbol leaves the paths of the others unchanged, and the same seed gives the same path
step by step. The step length is fixed by the rate (not by how late a step runs), so
the path depends on the seed and the step count alone; tick times come from the clock.

Without a seed (``seed=None``), every start draws a fresh one, and the runner hands the
simulator the last price it recorded for each symbol (`resume`, `sources.resume`): a
restarted market goes on where it stopped instead of jumping back to its start price
and walking the same path again.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from events.catalog import PriceTick
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.errors import SourceInputError
from sources.tick import is_symbol

SECONDS_PER_YEAR = 365.25 * 24 * 3600
DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
TYPICAL_PRICES = {
    "BTC": 100_000.0,
    "ETH": 3_500.0,
    "SOL": 180.0,
    "BNB": 650.0,
    "XRP": 2.2,
    "DOGE": 0.2,
    "ADA": 0.7,
    "AVAX": 35.0,
    "LINK": 20.0,
    "DOT": 6.0,
}
"""Starting prices by base asset when none is configured (quoted in a dollar)."""
FALLBACK_PRICE = 100.0


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated market behaves. Rates and volatilities are annualised."""

    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    start_prices: Mapping[str, float] = field(default_factory=dict)
    volatility: float = 0.8
    """Annualised volatility of the diffusion: 0.8 moves about 0.85 % in an hour."""
    rate_hz: float = 1.0
    """Ticks per second per symbol."""
    seed: int | None = 0
    """The same seed walks the same paths from the start prices; None: a fresh seed on
    each start (and the walk resumes from the last recorded prices, see `resume`)."""
    drift: float = 0.0
    jumps_per_hour: float = 1.0
    """Mean number of sudden moves per symbol and hour (Poisson)."""
    jump_size: float = 0.02
    """Standard deviation of a jump's log return (2 %)."""
    notional_per_s: float = 50_000.0
    """Average traded value per second, in the quote currency."""

    def start_price(self, symbol: str) -> float:
        if symbol in self.start_prices:
            return self.start_prices[symbol]
        return TYPICAL_PRICES.get(symbol.split("/", maxsplit=1)[0], FALLBACK_PRICE)


class _Walk:
    """One symbol's price path and its own generator."""

    def __init__(self, symbol: str, price: float, seed: int) -> None:
        self.symbol = symbol
        self.price = price
        self.rng = random.Random(f"{seed}:{symbol}")

    def step(self, config: SimulatorConfig, dt_s: float) -> tuple[float, float]:
        """Move the price by one step of `dt_s` seconds; returns (price, volume)."""
        dt = dt_s / SECONDS_PER_YEAR
        sigma = config.volatility
        log_return = (config.drift - sigma * sigma / 2) * dt
        log_return += sigma * math.sqrt(dt) * self.rng.gauss(0.0, 1.0)
        jumped = self.rng.random() < 1 - math.exp(-config.jumps_per_hour * dt_s / 3600)
        if jumped:
            log_return += self.rng.gauss(0.0, config.jump_size)
        self.price *= math.exp(log_return)
        activity = self.rng.lognormvariate(-0.125, 0.5) * (5.0 if jumped else 1.0)
        volume = config.notional_per_s * dt_s * activity / self.price
        return self.price, volume


class MarketSimulator:
    """The embedded default price source: a made-up market that never stops."""

    name = "simulator"
    venue = "simulator"
    simulated = True
    total = None

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = real_sleep,
    ) -> None:
        self.config = config = config or SimulatorConfig()
        _check(config)
        self.clock = clock
        self.sleep = sleep
        self.seed = config.seed if config.seed is not None else secrets.randbits(63)
        self._walks = [
            _Walk(symbol, config.start_price(symbol), self.seed) for symbol in config.symbols
        ]
        self._last_time: datetime | None = None

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.config.symbols

    @property
    def resumes(self) -> bool:
        """Whether it should go on from the last recorded prices: it has no seed given."""
        return self.config.seed is None

    def resume(self, prices: Mapping[str, float]) -> None:
        """Walk on from `prices` (the last recorded, by symbol) instead of start prices."""
        for walk in self._walks:
            price = prices.get(walk.symbol)
            if price is not None and math.isfinite(price) and price > 0:
                walk.price = price

    async def open(self) -> None:
        """Nothing to reach: the configuration was checked when the simulator was made."""

    async def aclose(self) -> None:
        """Nothing to release."""

    def step(self) -> list[PriceTick]:
        """One tick per symbol, one step further along each path, stamped with the clock."""
        at = self._next_time()
        dt_s = 1.0 / self.config.rate_hz
        ticks = []
        for walk in self._walks:
            price, volume = walk.step(self.config, dt_s)
            ticks.append(
                PriceTick(
                    symbol=walk.symbol,
                    venue=self.venue,
                    price=price,
                    volume=volume,
                    source_time=at,
                    simulated=True,
                )
            )
        return ticks

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        interval = timedelta(seconds=1.0 / self.config.rate_hz)
        due = self.clock()
        while True:
            yield self.step()
            due += interval
            await self.sleep(max(0.0, (due - self.clock()).total_seconds()))

    def _next_time(self) -> datetime:
        """The clock's time, nudged past the previous tick's so every tick id is new."""
        at = self.clock()
        if self._last_time is not None and at <= self._last_time:
            at = self._last_time + timedelta(microseconds=1)
        self._last_time = at
        return at


def _check(config: SimulatorConfig) -> None:
    if not config.symbols:
        raise SourceInputError("the simulator needs at least one symbol")
    bad = [symbol for symbol in config.symbols if not is_symbol(symbol)]
    if bad:
        raise SourceInputError(
            f"invalid simulator symbol {bad[0]!r}: write BASE/QUOTE in capitals, e.g. BTC/USDT"
        )
    unused = sorted(set(config.start_prices) - set(config.symbols))
    if unused:
        raise SourceInputError(f"a start price is set for {unused[0]}, which is not simulated")
    for symbol in config.symbols:
        price = config.start_price(symbol)
        if not (math.isfinite(price) and price > 0):
            raise SourceInputError(f"the start price of {symbol} must be positive, not {price}")
    if not config.volatility >= 0 or not math.isfinite(config.volatility):
        raise SourceInputError(f"volatility must be 0 or more, not {config.volatility}")
    if not 0 < config.rate_hz <= 1000:
        raise SourceInputError(f"the tick rate must be between 0 and 1000 Hz, not {config.rate_hz}")
