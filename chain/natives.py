"""Native transfers: value a transaction itself moves to or from a watched wallet.

They are not logs, so no `eth_getLogs` finds them: they are read from blocks with their
transactions (one call per block). A transaction that reverted moved nothing, though
its `value` says otherwise, so each candidate's receipt is asked for its status. Value
moved by contracts to a wallet (internal transactions) needs a node's trace API and is
not seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Set

from chain.blocks import Block, Transaction
from chain.errors import BlockUnavailableError
from chain.rpc import ChainRpc


async def native_transfers(rpc: ChainRpc, block: Block, wallets: Set[str]) -> list[Transaction]:
    """The block's transactions that moved value to or from one of `wallets`."""
    candidates = [
        tx
        for tx in block.transactions or ()
        if tx.value > 0
        and tx.recipient is not None
        and (tx.sender in wallets or tx.recipient in wallets)
    ]
    if not candidates:
        return []
    succeeded = await asyncio.gather(*(rpc.transaction_succeeded(tx.hash) for tx in candidates))
    if any(status is None for status in succeeded):
        raise BlockUnavailableError(f"no receipt yet for a transaction of block {block.number}")
    return [tx for tx, ok in zip(candidates, succeeded, strict=True) if ok]
