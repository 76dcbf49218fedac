"""The `eth_getLogs` filters that find what is watched, and no more.

For watched contracts C and wallets W, at most three filters (per thousand of each):

1. ``address: C`` — every log of a watched contract;
2. ``topics: [Transfer, W]`` — transfers (ERC-20, ERC-721) sent by a watched wallet;
3. ``topics: [Transfer, null, W]`` — transfers a watched wallet received.

Topic filters, never a scan of every log: a node answers them from its indexes. A
block's logs bloom rules out the filters that cannot match it, so following a quiet
chain costs the block header alone. A block that two or more filters may match is read
in one call instead, all its logs by its hash, and `keeps` picks what is watched: a
node's calls are what a provider counts and limits, and a block's logs (hundreds on a
busy chain) are one answer; a range (backfill) always uses the filters. Native
transfers are not logs: the follower finds them in the block's transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chain.blocks import Log, hex_quantity, topic_of_address
from chain.bloom import BLOOM_BYTES, BitTriple, bits_of, might_contain, might_contain_any
from chain.watchset import WatchTargets

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
"""keccak256("Transfer(address,address,uint256)"): ERC-20's, and ERC-721's too."""

MAX_FILTER_ITEMS = 1000
"""Addresses or topics per filter: providers refuse longer lists, so larger sets split."""

_TRANSFER_BITS = bits_of(TRANSFER_TOPIC)


@dataclass(frozen=True)
class _Filter:
    criteria: dict[str, Any]
    items: tuple[BitTriple, ...]
    """The bloom bits of its addresses or wallet topics: one must be in the block."""
    needs_transfer: bool


class LogQueries:
    """The filters for one set of targets, built once per change of the targets."""

    def __init__(self, targets: WatchTargets) -> None:
        self.targets = targets
        filters: list[_Filter] = []
        for chunk in _chunks(sorted(targets.contracts)):
            filters.append(
                _Filter({"address": list(chunk)}, tuple(bits_of(a) for a in chunk), False)
            )
        for chunk in _chunks(sorted(targets.wallets)):
            topics = [topic_of_address(wallet) for wallet in chunk]
            items = tuple(bits_of(topic) for topic in topics)
            filters.append(_Filter({"topics": [TRANSFER_TOPIC, topics]}, items, True))
            filters.append(_Filter({"topics": [TRANSFER_TOPIC, None, topics]}, items, True))
        self._filters = filters
        self._wallet_topics = frozenset(topic_of_address(wallet) for wallet in targets.wallets)

    def __len__(self) -> int:
        return len(self._filters)

    def for_block(self, block_hash: str, bloom: bytes) -> list[dict[str, Any]]:
        """The filters, pinned to one block by its hash (EIP-234), that its bloom allows;
        when that is more than one, one query for all the block's logs (see `keeps`)."""
        allowed = [query for query in self._filters if _may_match(query, bloom)]
        if len(allowed) > 1:
            return [{"blockHash": block_hash}]
        return [{**query.criteria, "blockHash": block_hash} for query in allowed]

    def keeps(self, log: Log) -> bool:
        """Whether a log is one the filters find: of a watched contract, or a transfer
        from or to a watched wallet."""
        if log.address in self.targets.contracts:
            return True
        topics = log.topics
        return (
            len(topics) >= 3
            and topics[0] == TRANSFER_TOPIC
            and (topics[1] in self._wallet_topics or topics[2] in self._wallet_topics)
        )

    def for_range(self, first: int, last: int) -> list[dict[str, Any]]:
        """Every filter over blocks `first` to `last`, inclusive."""
        bounds = {"fromBlock": hex_quantity(first), "toBlock": hex_quantity(last)}
        return [{**query.criteria, **bounds} for query in self._filters]


def _may_match(query: _Filter, bloom: bytes) -> bool:
    if len(bloom) != BLOOM_BYTES:  # a chain without standard blooms: ask anyway
        return True
    if query.needs_transfer and not might_contain(bloom, _TRANSFER_BITS):
        return False
    return might_contain_any(bloom, query.items)


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [
        items[start : start + MAX_FILTER_ITEMS] for start in range(0, len(items), MAX_FILTER_ITEMS)
    ]
