"""Each token's `decimals()` and `symbol()`: read from the chain once, then kept.

Scaling a transfer's amount needs the token's decimals, and a USD value needs its
symbol. Both are constants of a token, so each is asked once (two `eth_call`s per new
token, not per transfer) and kept in memory and in Redis (``ix:{chain}:tokens.<chain
id>``), which a restarted watcher and a backfill share. A contract that does not answer
them (not an ERC-20, or a non-standard one) is remembered as unknown: its transfers keep
their raw amount, unscaled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from chain.rpc import ChainRpc
from events.redis_client import RedisClient, hash_fields

DECIMALS_CALL = "0x313ce567"
SYMBOL_CALL = "0x95d89b41"
MAX_DECIMALS = 77
"""10**77 still fits a uint256: a larger `decimals()` is not a real token's."""
CONCURRENT_LOOKUPS = 8


@dataclass(frozen=True, slots=True)
class TokenInfo:
    decimals: int | None
    symbol: str | None


UNKNOWN = TokenInfo(None, None)


class TokenBook:
    """Token metadata of one chain."""

    def __init__(self, rpc: ChainRpc, redis: RedisClient, key: str) -> None:
        self.rpc = rpc
        self.redis = redis
        self.key = key
        self._known: dict[str, TokenInfo] = {}

    async def load(self) -> None:
        """Read what earlier runs learnt."""
        stored = hash_fields(await self.redis.hgetall(self.key))
        for address, value in stored.items():
            data = orjson.loads(value)
            self._known[address.decode()] = TokenInfo(data["decimals"], data["symbol"])

    def get(self, token: str) -> TokenInfo:
        """What is known of `token` (call `learn` first for tokens not seen before)."""
        return self._known.get(token, UNKNOWN)

    async def learn(self, tokens: Iterable[str]) -> None:
        """Ask the chain about every token not known yet, a few at a time, and keep it."""
        new = sorted({token for token in tokens if token not in self._known})
        if not new:
            return
        limit = asyncio.Semaphore(CONCURRENT_LOOKUPS)

        async def ask(token: str) -> TokenInfo:
            async with limit:
                decimals, symbol = await asyncio.gather(
                    self.rpc.call(token, DECIMALS_CALL), self.rpc.call(token, SYMBOL_CALL)
                )
            return TokenInfo(_decimals(decimals), _symbol(symbol))

        infos = await asyncio.gather(*(ask(token) for token in new))
        learnt = dict(zip(new, infos, strict=True))
        await self.redis.hset(
            self.key,
            mapping={
                token: orjson.dumps({"decimals": info.decimals, "symbol": info.symbol})
                for token, info in learnt.items()
            },
        )
        self._known.update(learnt)


def _decimals(reply: str | None) -> int | None:
    if reply is None or len(reply) != 66:
        return None
    value = int(reply, 16)
    return value if value <= MAX_DECIMALS else None


def _symbol(reply: str | None) -> str | None:
    if reply is None:
        return None
    raw = bytes.fromhex(reply[2:])
    text: str | None
    try:
        (text,) = abi_decode(["string"], raw)
    except (DecodingError, OverflowError, UnicodeDecodeError, ValueError):
        # Some early tokens (MKR, SAI) return their symbol as a bytes32.
        text = raw[:32].rstrip(b"\0").decode("utf-8", "replace") if len(raw) == 32 else None
    if not text or not text.isprintable() or len(text) > 32:
        return None
    return text
