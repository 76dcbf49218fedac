"""Turning raw logs into named events with an ABI: what the watcher decodes every log with.
(And revert data into the custom error it is, so a failed transaction says why.)

A log is matched by its first topic (the hash of the event's signature) and must then
fit the event's shape exactly: as many topics as indexed inputs, data that decodes as the
other inputs. A log that does not fit is not this event (an ERC-721 `Transfer` has the
ERC-20 one's signature but one more indexed input), so `decode` returns None rather than
guess or fail, and the caller keeps the log raw: an unknown event is never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_typing import ABI, ABIError, ABIEvent
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.utils import abi_to_signature, collapse_if_tuple, event_abi_to_log_topic

# Indexed inputs of dynamic types (and every array and struct) are stored as their hash,
# which cannot be decoded back.
_HASHED_WHEN_INDEXED = frozenset({"string", "bytes"})


@dataclass(frozen=True)
class DecodedEvent:
    """An event's name and its arguments by name (addresses checksummed, bytesN as bytes).

    An indexed string, bytes, array or struct argument is the 32-byte hash the log holds.
    """

    name: str
    args: dict[str, Any]


class EventDecoder:
    """Decodes logs by the events of one ABI (anonymous events have no topic to match).

    Addresses come back checksummed, or in lowercase with ``checksum_addresses=False``:
    the watcher's choice, since checksumming costs ~45 µs an address and its events keep
    addresses in lowercase anyway.
    """

    def __init__(self, abi: ABI, *, checksum_addresses: bool = True) -> None:
        self._checksum = checksum_addresses
        self._events: dict[bytes, ABIEvent] = {
            event_abi_to_log_topic(entry): entry
            for entry in abi
            if entry["type"] == "event" and not entry.get("anonymous", False)
        }

    def decode(self, topics: Sequence[bytes], data: bytes) -> DecodedEvent | None:
        """The event this log is, or None when it is none of the ABI's events."""
        if not topics:
            return None
        event = self._events.get(bytes(topics[0]))
        if event is None:
            return None
        inputs = event.get("inputs", [])
        indexed = [item for item in inputs if item.get("indexed", False)]
        plain = [item for item in inputs if not item.get("indexed", False)]
        if len(topics) != 1 + len(indexed):
            return None
        try:
            values = dict(
                zip(
                    [item["name"] for item in plain],
                    _decode(plain, bytes(data), checksum=self._checksum),
                    strict=True,
                )
            )
            for item, topic in zip(indexed, topics[1:], strict=True):
                kind = collapse_if_tuple(item)
                values[item["name"]] = _decode_topic(kind, bytes(topic), checksum=self._checksum)
        except DecodingError:
            return None
        return DecodedEvent(event["name"], {item["name"]: values[item["name"]] for item in inputs})


def _decode(inputs: Sequence[Any], data: bytes, *, checksum: bool = True) -> list[Any]:
    types = [collapse_if_tuple(item) for item in inputs]
    values = abi_decode(types, data)
    return [_normalized(kind, value, checksum) for kind, value in zip(types, values, strict=True)]


def _decode_topic(kind: str, topic: bytes, *, checksum: bool) -> Any:
    if kind in _HASHED_WHEN_INDEXED or kind.startswith("(") or kind.endswith("]"):
        return topic
    (value,) = abi_decode([kind], topic)
    return _normalized(kind, value, checksum)


def _normalized(kind: str, value: Any, checksum: bool) -> Any:
    if kind != "address":
        return value
    return to_checksum_address(value) if checksum else str(value).lower()


def describe_revert(data: bytes, abis: Sequence[ABI]) -> str | None:
    """A revert's custom error as ``FeeTooHigh(feeBps=5000, maxFeeBps=1000)``, if one of
    `abis` declares it; None for anything else (a plain require, a panic, unknown data)."""
    errors: dict[bytes, ABIError] = {
        keccak(text=abi_to_signature(entry))[:4]: entry
        for abi in abis
        for entry in abi
        if entry["type"] == "error"
    }
    error = errors.get(bytes(data[:4]))
    if error is None:
        return None
    inputs = error.get("inputs", [])
    try:
        values = _decode(inputs, bytes(data[4:]))
    except DecodingError:
        return None
    arguments = ", ".join(
        f"{item['name']}={value!r}" for item, value in zip(inputs, values, strict=True)
    )
    return f"{error['name']}({arguments})"
