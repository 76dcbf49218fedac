"""The market simulator: deterministic paths, honest labels, sane statistics."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from sources.errors import SourceInputError
from sources.simulator import MarketSimulator, SimulatorConfig
from tests.sources.source_contract import SourceContract
from tests.sources.support import FakeClock, take


class TestSimulatorContract(SourceContract):
    def create_source(self) -> MarketSimulator:
        clock = FakeClock()
        return MarketSimulator(SimulatorConfig(seed=7), clock=clock, sleep=clock.sleep)

    def rewind(self) -> None:
        """Each source starts on its own clock from the same moment: nothing moved on."""


def prices(config: SimulatorConfig, steps: int) -> dict[str, list[float]]:
    simulator = MarketSimulator(config, clock=FakeClock())
    paths: dict[str, list[float]] = {symbol: [] for symbol in config.symbols}
    for _ in range(steps):
        for tick in simulator.step():
            paths[tick.symbol].append(tick.price)
    return paths


def test_the_same_seed_walks_the_same_path_and_another_seed_does_not() -> None:
    one = prices(SimulatorConfig(seed=1), 200)
    assert one == prices(SimulatorConfig(seed=1), 200)
    assert one["BTC/USDT"] != prices(SimulatorConfig(seed=2), 200)["BTC/USDT"]


def test_without_a_seed_each_start_walks_a_path_of_its_own() -> None:
    paths = [prices(SimulatorConfig(seed=None), 50)["BTC/USDT"] for _ in range(2)]
    assert paths[0] != paths[1]


def test_a_resumed_simulator_walks_on_from_the_prices_it_is_given() -> None:
    simulator = MarketSimulator(SimulatorConfig(seed=None), clock=FakeClock())
    assert simulator.resumes
    simulator.resume({"BTC/USDT": 50_000.0, "DOGE/USDT": 1.0, "ETH/USDT": math.nan})
    first = {tick.symbol: tick.price for tick in simulator.step()}
    assert first["BTC/USDT"] == pytest.approx(50_000.0, rel=0.01)
    assert first["ETH/USDT"] == pytest.approx(3_500.0, rel=0.01)  # not a price: its start
    assert not MarketSimulator(SimulatorConfig(seed=3), clock=FakeClock()).resumes


def test_adding_a_symbol_leaves_the_other_paths_alone() -> None:
    alone = prices(SimulatorConfig(symbols=("BTC/USDT",), seed=3), 100)
    together = prices(SimulatorConfig(symbols=("ETH/USDT", "BTC/USDT"), seed=3), 100)
    assert together["BTC/USDT"] == alone["BTC/USDT"]


async def test_every_tick_is_labelled_simulated_at_the_simulator_venue() -> None:
    clock = FakeClock()
    simulator = MarketSimulator(SimulatorConfig(rate_hz=4), clock=clock, sleep=clock.sleep)
    batches = await take(simulator, 5)
    ticks = [tick for batch in batches for tick in batch]
    assert {(t.simulated, t.venue) for t in ticks} == {(True, "simulator")}
    assert {t.symbol for t in ticks} == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert clock.sleeps == [0.25] * 4, "ticks are paced at the configured rate"
    assert len({t.source_time for t in ticks}) == 5


def test_start_prices_and_typical_prices() -> None:
    config = SimulatorConfig(
        symbols=("BTC/USDT", "ETH/EUR", "ZZZ/USD"), start_prices={"ETH/EUR": 3000.0}
    )
    first = {tick.symbol: tick.price for tick in MarketSimulator(config).step()}
    assert first["BTC/USDT"] == pytest.approx(100_000, rel=0.01)
    assert first["ETH/EUR"] == pytest.approx(3_000, rel=0.01)
    assert first["ZZZ/USD"] == pytest.approx(100, rel=0.01)


def test_volatility_scales_the_moves_and_volume_is_positive() -> None:
    def log_returns(volatility: float) -> list[float]:
        config = SimulatorConfig(symbols=("BTC/USDT",), volatility=volatility, jumps_per_hour=0)
        path = prices(config, 2000)["BTC/USDT"]
        return [math.log(b / a) for a, b in itertools.pairwise(path)]

    calm, wild = statistics.stdev(log_returns(0.2)), statistics.stdev(log_returns(2.0))
    expected = 2.0 * math.sqrt(1 / (365.25 * 24 * 3600))
    assert wild == pytest.approx(expected, rel=0.1)
    assert wild / calm == pytest.approx(10, rel=0.15)
    simulator = MarketSimulator(SimulatorConfig(), clock=FakeClock())
    assert all(tick.volume > 0 for _ in range(50) for tick in simulator.step())


def test_jumps_happen_at_their_rate() -> None:
    config = SimulatorConfig(symbols=("BTC/USDT",), volatility=0.0, jumps_per_hour=3600.0)
    path = prices(config, 1000)["BTC/USDT"]
    moves = sum(1 for a, b in itertools.pairwise(path) if abs(math.log(b / a)) > 1e-6)
    # one jump a second on average: P(at least one in a 1 s step) = 1 - e^-1
    assert moves / 999 == pytest.approx(1 - math.exp(-1), abs=0.06)


def test_ticks_never_share_a_time_even_when_the_clock_stands_still() -> None:
    simulator = MarketSimulator(SimulatorConfig(symbols=("BTC/USDT",)), clock=FakeClock())
    times = [simulator.step()[0].source_time for _ in range(3)]
    assert times[0] < times[1] < times[2]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SimulatorConfig(symbols=()), "at least one symbol"),
        (SimulatorConfig(symbols=("btc-usdt",)), "invalid simulator symbol 'btc-usdt'"),
        (SimulatorConfig(start_prices={"DOGE/USDT": 1.0}), "not simulated"),
        (SimulatorConfig(start_prices={"BTC/USDT": -1.0}), "must be positive"),
        (SimulatorConfig(rate_hz=0), "tick rate"),
    ],
)
def test_bad_configuration_is_refused(config: SimulatorConfig, message: str) -> None:
    with pytest.raises(SourceInputError, match=message):
        MarketSimulator(config)
