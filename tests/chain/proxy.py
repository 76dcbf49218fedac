"""A loopback JSON-RPC proxy in front of anvil that misbehaves like real providers do.

It runs on 127.0.0.1 on a free port in the test's event loop (aiohttp's server) and
forwards every call to the node, except what it is told to break:

- `range_limit`: an `eth_getLogs` spanning more blocks is refused the way providers
  word it ("block range is too large");
- `rate_limit_every`: every Nth request answers HTTP 429 with `Retry-After: 0`;
- `hang_every`: every Nth `eth_getLogs` answers only after `hang_s` (past the client's
  timeout);
- `lag`: every other request is answered by a node `lag` blocks behind (a load balancer
  over two nodes): it has no block above its head, does not know their hashes, and its
  `eth_getLogs` stops at its head;
- `chain_id`: answer `eth_chainId` with another chain.

`injected` counts what it did, so a test can tell its faults happened.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from impressox.embedded.process import free_port


@dataclass
class NodeProxy:
    upstream: str
    range_limit: int | None = None
    rate_limit_every: int = 0
    hang_every: int = 0
    hang_s: float = 2.0
    lag: int = 0
    chain_id: int | None = None
    url: str = ""
    injected: Counter[str] = field(default_factory=Counter)
    _requests: int = 0
    _log_requests: int = 0
    _session: ClientSession | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        call = json.loads(await request.read())
        self._requests += 1
        method = call["method"]
        if method == "eth_getLogs":
            self._log_requests += 1
        if self.rate_limit_every and self._requests % self.rate_limit_every == 0:
            self.injected["429"] += 1
            return web.Response(status=429, headers={"Retry-After": "0"})
        if (
            method == "eth_getLogs"
            and self.hang_every
            and self._log_requests % self.hang_every == 0
        ):
            self.injected["hang"] += 1
            await asyncio.sleep(self.hang_s)
        result = await self._answer(method, call["params"])
        return web.json_response({"jsonrpc": "2.0", "id": call["id"], **result})

    async def _answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        if method == "eth_chainId" and self.chain_id is not None:
            return {"result": hex(self.chain_id)}
        if method == "eth_getLogs" and self.range_limit is not None and "fromBlock" in params[0]:
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            if span > self.range_limit:
                self.injected["range"] += 1
                message = f"block range is too large: {span} > {self.range_limit}"
                return {"error": {"code": -32600, "message": message}}
        if self.lag and self._requests % 2:
            lagged = await self._lagging(method, params)
            if lagged is not None:
                self.injected["lagged"] += 1
                return lagged
        return await self._forward(method, params)

    async def _lagging(  # noqa: PLR0911 - one answer per method
        self, method: str, params: list[Any]
    ) -> dict[str, Any] | None:
        """The answer of a node `lag` blocks behind, where it differs from the node's."""
        head = int((await self._forward("eth_blockNumber", []))["result"], 16) - self.lag
        if method == "eth_blockNumber":
            return {"result": hex(head)}
        if method == "eth_getBlockByNumber" and int(params[0], 16) > head:
            return {"result": None}
        if method == "eth_getLogs" and "blockHash" in params[0]:
            block = await self._forward("eth_getBlockByHash", [params[0]["blockHash"], False])
            if block["result"] is None or int(block["result"]["number"], 16) > head:
                return {"error": {"code": -32000, "message": "unknown block"}}
        if method == "eth_getLogs" and "toBlock" in params[0]:
            if int(params[0]["fromBlock"], 16) > head:
                return {"result": []}
            return await self._forward(method, [{**params[0], "toBlock": hex(head)}])
        if method == "eth_getTransactionReceipt":
            receipt = await self._forward(method, params)
            if receipt.get("result") and int(receipt["result"]["blockNumber"], 16) > head:
                return {"result": None}
        return None

    async def _forward(self, method: str, params: list[Any]) -> dict[str, Any]:
        assert self._session is not None
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        async with self._session.post(self.upstream, json=body) as response:
            answer: dict[str, Any] = await response.json()
        answer.pop("id", None)
        answer.pop("jsonrpc", None)
        return answer


@asynccontextmanager
async def node_proxy(upstream: str, **faults: Any) -> AsyncIterator[NodeProxy]:
    proxy = NodeProxy(upstream, **faults)
    app = web.Application()
    app.router.add_post("/{path:.*}", proxy.handle)  # any path: providers put keys there
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    proxy.url = f"http://127.0.0.1:{port}/"
    async with ClientSession() as session:
        proxy._session = session
        try:
            yield proxy
        finally:
            await runner.cleanup()
