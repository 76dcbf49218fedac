"""A block's logs bloom: which queries cannot match anything in the block, unasked.

Every block header carries a 2048-bit Bloom filter of the addresses and topics of all its
logs (the yellow paper's M3:2048): for each, the low 11 bits of three byte pairs of its
keccak-256 hash are set. A query whose addresses (or topics) have no bit triple in the
block's filter matches no log there, so the watcher skips that `eth_getLogs` call. A
false positive costs one call that returns nothing; there are no false negatives.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils.crypto import keccak

BLOOM_BYTES = 256

BitTriple = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
"""(byte index, mask) of each of the three bits an item sets."""


def bits_of(item_hex: str) -> BitTriple:
    """Where an address or a topic (0x hex) sets its bits; computed once per watched item."""
    digest = keccak(bytes.fromhex(item_hex[2:]))
    positions = [((digest[i] << 8) | digest[i + 1]) & 2047 for i in (0, 2, 4)]
    first, second, third = ((BLOOM_BYTES - 1 - bit // 8, 1 << (bit % 8)) for bit in positions)
    return (first, second, third)


def might_contain(bloom: bytes, bits: BitTriple) -> bool:
    """Whether the block may have a log with this address or topic."""
    return all(bloom[index] & mask for index, mask in bits)


def might_contain_any(bloom: bytes, items: Iterable[BitTriple]) -> bool:
    """Whether the block may have a log with one of these addresses or topics."""
    return any(might_contain(bloom, bits) for bits in items)
