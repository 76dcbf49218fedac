"""JSON-RPC to one chain through one or more nodes: failover, retries, a chain id check.

Each node is web3.py's `AsyncWeb3` over an `AsyncHTTPProvider`, asked for raw JSON
(`chain.blocks` parses it): the provider's own retries are off, since what to do about a
failure depends on what failed.

- **Transient** (HTTP 429 or 5xx, a rate-limit error, a timeout, a refused connection):
  back off (exponential, jittered, at least what `Retry-After` asks) and try the next
  node; after `attempts` tries, `NodeUnavailableError`. A node that answers stays in use.
- **A range too large** for an `eth_getLogs` (HTTP 413, an error about the range or the
  result's size, or a timeout: a query that times out is usually one that returns too
  much) is `RangeTooLargeError` at once, for the reader to shrink its range.
- **A block the node does not know** ("unknown block") is `BlockUnavailableError`: a
  node behind the others, not a reorg.
- Anything else is `RpcError`, with the node's message.

Before a node is first used, its `eth_chainId` is compared with the expected chain (the
setting, else what the first node says). At start every node that answers must agree,
or nothing starts; a node that disagrees later is set aside.

Every HTTP request is counted by method (`calls`), which is how the benchmark and
`impressox chain status` know what following a chain costs. URLs are shown as scheme and
host only: providers put API keys in the path.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import ClientError, ClientResponseError, ClientTimeout
from web3 import AsyncWeb3
from web3.providers.rpc import AsyncHTTPProvider
from web3.types import RPCEndpoint

from chain.blocks import Block, Log, hex_quantity, parse_block, parse_logs, parse_quantity
from chain.errors import (
    BlockUnavailableError,
    ChainIdMismatchError,
    NodeUnavailableError,
    RangeTooLargeError,
    RpcError,
)
from chain.urls import redact_rpc_url
from events.backoff import Backoff

log = structlog.get_logger(__name__)

ATTEMPTS = 6
"""Tries of one call (across nodes) before it fails: with the backoff below, ~10 s."""

REVERTED = 3
"""The JSON-RPC error code of a call that reverted (EIP-1474's "execution error")."""

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_RATE_WORDS = ("rate limit", "too many requests", "capacity", "throttl", "backoff")
_RANGE_WORDS = (
    "range",
    "more than",
    "too many",
    "too large",
    "response size",
    "result size",
    "exceed",
    "max results",
    "limit",
)
_UNKNOWN_BLOCK_WORDS = ("unknown block", "block not found", "header not found", "not found")


@dataclass
class _Node:
    index: int
    url: str
    w3: AsyncWeb3[AsyncHTTPProvider]
    chain_id: int | None = None
    set_aside: str | None = None

    @property
    def label(self) -> str:
        return f"#{self.index + 1} {redact_rpc_url(self.url)}"


class _TransientError(Exception):
    """A failure worth retrying elsewhere, after `delay_s` at least."""

    def __init__(self, message: str, delay_s: float = 0.0) -> None:
        super().__init__(message)
        self.delay_s = delay_s


@dataclass
class ChainRpc:
    """The nodes of one chain, used one at a time, the next one when it fails."""

    urls: Sequence[str]
    timeout_s: float = 10.0
    attempts: int = ATTEMPTS
    backoff_first_s: float = 0.2
    backoff_max_s: float = 5.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    calls: Counter[str] = field(default_factory=Counter)
    """HTTP requests made, by JSON-RPC method (failed ones included)."""

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("ChainRpc needs at least one node URL")
        # web3 logs each request's URL (DEBUG) and each closed session's (INFO): a
        # provider's URL holds its key. Its warnings and errors name no URL.
        logging.getLogger("web3").setLevel(logging.WARNING)
        timeout = ClientTimeout(total=self.timeout_s)
        self._nodes = [
            _Node(
                index,
                url,
                AsyncWeb3(
                    AsyncHTTPProvider(
                        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
                    )
                ),
            )
            for index, url in enumerate(self.urls)
        ]
        self._current = 0
        self.chain_id: int | None = None

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def nodes(self) -> list[str]:
        """Each node's label, and why it was set aside if it was."""
        return [
            node.label + (f" (set aside: {node.set_aside})" if node.set_aside else "")
            for node in self._nodes
        ]

    async def connect(self, expected_chain_id: int | None = None) -> int:
        """Check every node's chain id; returns the chain's id.

        Nodes that do not answer now are checked before their first use. Refuses
        (`ChainIdMismatchError`) when a node serves another chain than `expected_chain_id`
        or than the others; `NodeUnavailableError` when no node answers at all.
        """
        self.chain_id = expected_chain_id
        answers = await asyncio.gather(
            *(self._chain_id_of(node) for node in self._nodes), return_exceptions=True
        )
        reached: list[tuple[_Node, int]] = [
            (node, answer)
            for node, answer in zip(self._nodes, answers, strict=True)
            if isinstance(answer, int)
        ]
        if not reached:
            errors = "; ".join(f"{n.label}: {a}" for n, a in zip(self._nodes, answers, strict=True))
            raise NodeUnavailableError(f"no chain node answers eth_chainId: {errors}")
        for node, answer in reached:
            if self.chain_id is None:
                self.chain_id = answer
            if answer != self.chain_id:
                said = (
                    f"IMPRESSOX_CHAIN_ID is {expected_chain_id}"
                    if expected_chain_id is not None
                    else f"{reached[0][0].label} serves chain {self.chain_id}"
                )
                raise ChainIdMismatchError(
                    f"CHAIN_RPC_URL {node.label} serves chain {answer}, but {said}"
                )
            node.chain_id = answer
        for node, failure in zip(self._nodes, answers, strict=True):
            if not isinstance(failure, int):
                log.warning("chain node silent at start", node=node.label, error=str(failure))
        assert self.chain_id is not None
        return self.chain_id

    async def aclose(self) -> None:
        for node in self._nodes:
            await node.w3.provider.disconnect()

    # -- calls ----------------------------------------------------------------------------

    async def block_number(self) -> int:
        return parse_quantity(await self.request("eth_blockNumber", []), "eth_blockNumber")

    async def block(self, number: int, *, transactions: bool = False) -> Block | None:
        """The block at `number` on the node's chain, or None when it has none there (yet)."""
        reply = await self.request("eth_getBlockByNumber", [hex_quantity(number), transactions])
        return None if reply is None else parse_block(reply, with_transactions=transactions)

    async def logs(self, query: dict[str, Any]) -> list[Log]:
        """`eth_getLogs`; a range too large raises `RangeTooLargeError`, an unknown block
        hash `BlockUnavailableError`."""
        return parse_logs(await self.request("eth_getLogs", [query], range_query=True))

    async def call(self, to: str, data: str) -> str | None:
        """`eth_call` at the latest block; None when it reverts or returns nothing."""
        try:
            reply = await self.request("eth_call", [{"to": to, "data": data}, "latest"])
        except RpcError as error:
            if error.code == REVERTED or "revert" in str(error).lower():
                return None
            raise
        return reply if isinstance(reply, str) and len(reply) > 2 else None

    async def transaction_succeeded(self, tx_hash: str) -> bool | None:
        """Whether a mined transaction succeeded (its receipt's status); None if unknown."""
        receipt = await self.request("eth_getTransactionReceipt", [tx_hash])
        if not isinstance(receipt, dict) or not isinstance(receipt.get("status"), str):
            return None
        return bool(int(receipt["status"], 16))

    async def request(self, method: str, params: list[Any], *, range_query: bool = False) -> Any:
        """One JSON-RPC call, with retries and failover (see the module's docstring)."""
        last = "no node tried"
        backoff = Backoff(self.backoff_first_s, self.backoff_max_s, "half")  # this call's own
        for _ in range(self.attempts):
            node = await self._usable_node()
            try:
                result = await self._send(node, method, params, range_query=range_query)
            except _TransientError as transient:
                last = f"{node.label}: {transient}"
                log.info("chain node call failed, retrying", method=method, error=last)
                self._current = (node.index + 1) % len(self._nodes)
                await self.sleep(max(backoff.next_delay(), transient.delay_s))
                continue
            return result
        raise NodeUnavailableError(f"{method} failed {self.attempts} times; last: {last}")

    async def _usable_node(self) -> _Node:
        """The current node, its chain id checked; nodes set aside are skipped."""
        for offset in range(len(self._nodes)):
            node = self._nodes[(self._current + offset) % len(self._nodes)]
            if node.set_aside:
                continue
            if node.chain_id is None and self.chain_id is not None:
                try:
                    answer = await self._chain_id_of(node)
                except (_TransientError, RpcError):
                    return node  # unchecked still: its failure is the call's to report
                if answer != self.chain_id:
                    node.set_aside = f"serves chain {answer}, not {self.chain_id}"
                    log.error("chain node set aside", node=node.label, reason=node.set_aside)
                    continue
                node.chain_id = answer
            self._current = node.index
            return node
        raise ChainIdMismatchError(
            f"every CHAIN_RPC_URL node serves another chain than {self.chain_id}: "
            + "; ".join(self.nodes)
        )

    async def _chain_id_of(self, node: _Node) -> int:
        reply = await self._send(node, "eth_chainId", [], range_query=False)
        return parse_quantity(reply, f"{node.label} eth_chainId")

    async def _send(self, node: _Node, method: str, params: list[Any], *, range_query: bool) -> Any:
        self.calls[method] += 1
        try:
            response = await node.w3.provider.make_request(RPCEndpoint(method), params)
        except ClientResponseError as error:
            raise _http_failure(error, range_query=range_query) from None
        except TimeoutError:
            if range_query:
                raise RangeTooLargeError(f"{method} timed out after {self.timeout_s} s") from None
            raise _TransientError(f"timed out after {self.timeout_s} s") from None
        except (ClientError, OSError, ValueError) as error:  # refused, reset, not JSON
            raise _TransientError(f"{type(error).__name__}: {error}") from None
        error_object = response.get("error")
        if error_object is not None:
            raise _rpc_failure(method, error_object, range_query=range_query)
        return response.get("result")


def _http_failure(error: ClientResponseError, *, range_query: bool) -> Exception:
    if error.status in _TRANSIENT_STATUS:
        retry_after = error.headers.get("Retry-After", "") if error.headers else ""
        delay = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 0.0
        return _TransientError(f"HTTP {error.status}", delay)
    if range_query and error.status not in (401, 403, 404):
        return RangeTooLargeError(f"HTTP {error.status} {error.message}")
    return RpcError(f"HTTP {error.status} {error.message}")


def _rpc_failure(method: str, error: Any, *, range_query: bool) -> Exception:
    code = error.get("code") if isinstance(error, dict) else None
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    lowered = message.lower()
    if code == 429 or any(word in lowered for word in _RATE_WORDS):
        return _TransientError(f"{method}: {message}")
    if range_query and any(word in lowered for word in _RANGE_WORDS):
        return RangeTooLargeError(f"{method}: {message}", code=code)
    if any(word in lowered for word in _UNKNOWN_BLOCK_WORDS):
        return BlockUnavailableError(f"{method}: {message}", code=code)
    return RpcError(f"{method}: {message}", code=code if isinstance(code, int) else None)
