"""Producers of market data: simulators, exchanges, aggregators and replays."""
