"""What the chain benchmark drives the node with: a contract that emits many transfers.

`EMITTER` is a contract written directly in EVM bytecode (so it needs no compiler and
stays out of the contracts' ABI export): called with one 32-byte word n, it emits n
ERC-20 `Transfer` logs from the caller to the addresses 1..n, of values 1..n; any other
call reverts (so its `decimals()` is unknown and its amounts stay unscaled). One call of
n = 10 per block makes 100,000 logs over 10,000 blocks.

Transactions go out one at a time over one kept-alive connection, and anvil mines each
into a block of its own (sent as a batch, they would race for the sender's nonce).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import ClientSession
from eth_utils.crypto import keccak

TRANSFER_SIGNATURE = keccak(text="Transfer(address,address,uint256)")
IN_FLIGHT = 100
"""Transactions sent before waiting for the last to be mined: sent faster than anvil mines
them, its pool grows until it stops mining altogether (it hung at ~2,000 of 10,000)."""


def _emitter_bytecode() -> bytes:
    """The creation code: copy the runtime below into memory and return it."""
    code: list[int] = []
    labels: dict[str, int] = {}
    jumps: list[tuple[int, str]] = []

    def op(*values: int) -> None:
        code.extend(values)

    def jump_target(name: str) -> None:  # PUSH2 <label>, patched below
        op(0x61, 0, 0)
        jumps.append((len(code) - 2, name))

    def label(name: str) -> None:
        labels[name] = len(code)
        op(0x5B)  # JUMPDEST

    op(0x36, 0x60, 0x20, 0x14)  # CALLDATASIZE == 32 ?
    jump_target("start")
    op(0x57)  # JUMPI
    op(0x60, 0x00, 0x80, 0xFD)  # REVERT(0, 0)
    label("start")
    op(0x60, 0x00, 0x35)  # n = CALLDATALOAD(0)
    op(0x60, 0x00)  # i = 0                                 stack: i n
    label("loop")
    op(0x81, 0x81, 0x10, 0x15)  # !(i < n) ?
    jump_target("end")
    op(0x57)  # JUMPI
    op(0x80, 0x60, 0x01, 0x01)  # i + 1
    op(0x80, 0x60, 0x00, 0x52)  # MSTORE(0, i + 1): the value   stack: i+1 i n
    op(0x33)  # CALLER: the sender topic
    op(0x7F, *TRANSFER_SIGNATURE)  # PUSH32 the event's topic
    op(0x60, 0x20, 0x60, 0x00)  # size 32, offset 0
    op(0xA3)  # LOG3(0, 32, Transfer, caller, i + 1)
    op(0x60, 0x01, 0x01)  # i = i + 1
    jump_target("loop")
    op(0x56)  # JUMP
    label("end")
    op(0x00)  # STOP
    for at, name in jumps:
        code[at], code[at + 1] = labels[name] >> 8, labels[name] & 0xFF
    runtime = bytes(code)
    size = len(runtime)
    init = bytes(
        [0x61, size >> 8, size & 0xFF, 0x80, 0x60, 0x0C, 0x60, 0x00, 0x39, 0x60, 0x00, 0xF3]
    )
    return init + runtime


EMITTER = _emitter_bytecode()


def emit_call(count: int) -> str:
    """The calldata that makes the emitter log `count` transfers."""
    return "0x" + count.to_bytes(32, "big").hex()


class Node:
    """Raw JSON-RPC to the node, in batches."""

    def __init__(self, url: str, session: ClientSession) -> None:
        self.url = url
        self.session = session

    async def call(self, method: str, *params: Any) -> Any:
        (result,) = await self.batch([(method, list(params))])
        return result

    async def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        body = [
            {"jsonrpc": "2.0", "id": n, "method": method, "params": params}
            for n, (method, params) in enumerate(calls)
        ]
        async with self.session.post(self.url, json=body) as response:
            answers = sorted(await response.json(), key=lambda answer: answer["id"])
        for answer in answers:
            if "error" in answer:
                raise RuntimeError(f"{calls[answer['id']][0]}: {answer['error']}")
        return [answer["result"] for answer in answers]

    async def head(self) -> int:
        return int(await self.call("eth_blockNumber"), 16)

    async def deploy_emitter(self, sender: str) -> str:
        creation = {"from": sender, "data": "0x" + EMITTER.hex(), "gas": hex(300_000)}
        receipt = await self.mined(await self.call("eth_sendTransaction", creation))
        return str(receipt["contractAddress"]).lower()

    async def mined(self, tx_hash: str) -> dict[str, Any]:
        """The transaction's receipt, once anvil has mined it (at once, or nearly)."""
        while True:
            receipt = await self.call("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                return dict(receipt)
            await asyncio.sleep(0.005)

    async def emit(self, sender: str, emitter: str, per_call: int, calls: int) -> None:
        """`calls` transactions, each its own block of `per_call` transfers.

        Each names its nonce and gas price: left to anvil, working them out grows with
        the chain (10,000 transactions took minutes instead of seconds)."""
        nonce = int(await self.call("eth_getTransactionCount", sender, "pending"), 16)
        # Twice the base fee: room for it to rise. Not from eth_gasPrice, which follows the
        # tips paid lately: it would double with each call that paid twice its answer.
        latest = await self.call("eth_getBlockByNumber", "latest", False)
        gas_price = 2 * int(latest["baseFeePerGas"], 16) + 10**9
        transaction = {
            "from": sender,
            "to": emitter,
            "data": emit_call(per_call),
            "gas": hex(60_000 + 3_000 * per_call),
            "gasPrice": hex(gas_price),
        }
        sent = ""
        for number in range(calls):  # one at a time: anvil mines each into a block
            sent = await self.call(
                "eth_sendTransaction", transaction | {"nonce": hex(nonce + number)}
            )
            if number % IN_FLIGHT == IN_FLIGHT - 1:
                await self.mined(sent)
        if sent:
            await self.mined(sent)

    async def mine(self, blocks: int = 1) -> None:
        await self.call("anvil_mine", hex(blocks))

    async def accounts(self) -> list[str]:
        return [str(account).lower() for account in await self.call("eth_accounts")]


async def wait_for(check: Any, within: float, what: str) -> None:
    """Poll an async `check` until it holds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what}: not within {within:.0f} s")
        await asyncio.sleep(0.02)
