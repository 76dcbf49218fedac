"""Which ABI decodes a contract's logs: ours, one a user registered, or a standard's.

- **Ours**: the contracts in the deployments file, with the exported ABI it names.
- **Registered**: anyone may register the ABI of a contract on a chain; it is an event
  (``chain.abi_registered``) in the ``ix:{chain}:abis`` stream, checked whole before it is
  appended (every event entry's name and input types), so the watcher never meets a bad
  one. The last one registered for an address wins; a registration that changes nothing
  appends nothing (its id is derived from what it says).
- **Standards**: ERC-20 and ERC-721 `Transfer` and `Approval`, for any contract.

A log none of them decodes is kept raw (topics and data), never dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, cast
from uuid import NAMESPACE_URL, uuid5

import orjson
from eth_abi.exceptions import ParseError
from eth_abi.grammar import parse as parse_abi_type
from eth_typing import ABI
from pydantic import Field, JsonValue, ValidationError

from aggregates.evm import checksum_address
from chain.decoding import DecodedEvent, EventDecoder
from chain.errors import InvalidAbiError
from events.catalog.chain import Address, ChainId
from events.envelope import Event, Payload
from events.position import Position
from events.registry import event_type
from events.store import AppendResult, EventStore

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/chain/abi")

STANDARD_ABIS: tuple[ABI, ...] = (
    cast(
        "ABI",
        [
            {
                "type": "event",
                "name": "Transfer",
                "anonymous": False,
                "inputs": [
                    {"name": "from", "type": "address", "indexed": True},
                    {"name": "to", "type": "address", "indexed": True},
                    {"name": "value", "type": "uint256", "indexed": False},
                ],
            },
            {
                "type": "event",
                "name": "Approval",
                "anonymous": False,
                "inputs": [
                    {"name": "owner", "type": "address", "indexed": True},
                    {"name": "spender", "type": "address", "indexed": True},
                    {"name": "value", "type": "uint256", "indexed": False},
                ],
            },
        ],
    ),
    cast(
        "ABI",
        [
            {
                "type": "event",
                "name": "Transfer",
                "anonymous": False,
                "inputs": [
                    {"name": "from", "type": "address", "indexed": True},
                    {"name": "to", "type": "address", "indexed": True},
                    {"name": "tokenId", "type": "uint256", "indexed": True},
                ],
            },
            {
                "type": "event",
                "name": "ApprovalForAll",
                "anonymous": False,
                "inputs": [
                    {"name": "owner", "type": "address", "indexed": True},
                    {"name": "operator", "type": "address", "indexed": True},
                    {"name": "approved", "type": "bool", "indexed": False},
                ],
            },
        ],
    ),
)
"""ERC-20's events, then ERC-721's (whose `Transfer` has the same signature and one more
indexed input: tried second)."""


@event_type("chain.abi_registered")
class AbiRegistered(Payload):
    """The ABI that decodes a contract's logs on a chain, from now on."""

    chain_id: ChainId
    address: Address
    name: str = Field(default="", max_length=80)
    abi: list[dict[str, JsonValue]]


def validated_abi(abi: Any) -> ABI:
    """`abi` if it is a JSON ABI with at least one well-formed event; else why not."""
    if not isinstance(abi, list):
        raise InvalidAbiError("an ABI is a JSON list of entries")
    events = 0
    for position, entry in enumerate(abi):
        if not isinstance(entry, dict) or not isinstance(entry.get("type", "function"), str):
            raise InvalidAbiError(f"ABI entry {position} is not an object with a 'type'")
        if entry.get("type") != "event":
            continue
        events += 1
        name = entry.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidAbiError(f"ABI entry {position}: an event needs a 'name'")
        inputs = entry.get("inputs", [])
        if not isinstance(inputs, list):
            raise InvalidAbiError(f"ABI event {name}: 'inputs' is not a list")
        for index, item in enumerate(inputs):
            _check_input(name, index, item)
    if not events:
        raise InvalidAbiError("the ABI declares no event: nothing to decode logs with")
    return cast("ABI", abi)


def _check_input(event: str, index: int, item: Any) -> None:
    where = f"ABI event {event} input {index}"
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise InvalidAbiError(f"{where}: needs a 'type'")
    if not isinstance(item.get("name", ""), str) or not isinstance(
        item.get("indexed", False), bool
    ):
        raise InvalidAbiError(f"{where}: 'name' is text and 'indexed' true or false")
    kind = item["type"]
    if kind.startswith("tuple"):
        components = item.get("components")
        if not isinstance(components, list) or not components:
            raise InvalidAbiError(f"{where}: a tuple needs its 'components'")
        for position, component in enumerate(components):
            _check_input(event, position, component)
        return
    try:
        parse_abi_type(kind).validate()
    except (ParseError, ValueError) as error:
        raise InvalidAbiError(f"{where}: {kind!r} is not an ABI type ({error})") from None


async def register_abi(
    store: EventStore, chain_id: int, address: str, abi: Any, *, name: str = ""
) -> AppendResult:
    """Append the ABI of `address` on `chain_id`, after checking it whole."""
    try:
        lowered = checksum_address(address).lower()
    except ValueError as error:
        raise InvalidAbiError(f"address: {error}") from None
    checked = validated_abi(abi)
    try:
        payload = AbiRegistered(
            chain_id=chain_id, address=lowered, name=name, abi=cast("Any", checked)
        )
    except ValidationError as error:
        raise InvalidAbiError(str(error.errors(include_url=False)[0]["msg"])) from None
    digest = hashlib.sha256(orjson.dumps(payload.model_dump(mode="json"))).hexdigest()
    event = Event(
        event_id=uuid5(_NAMESPACE, f"{chain_id}:{lowered}:{digest}"), key=lowered, payload=payload
    )
    (result,) = await store.append_to_stream(
        store.names.chain_abis(), [event], expected_version=None
    )
    return result


class Decoders:
    """Decodes one chain's logs, by address, with the best ABI known for it."""

    def __init__(self, store: EventStore, chain_id: int, ours: Mapping[str, ABI]) -> None:
        self.store = store
        self.chain_id = chain_id
        self._ours = {address.lower(): _AbiDecoder(abi) for address, abi in ours.items()}
        self._registered: dict[str, _AbiDecoder] = {}
        self._standards = [_AbiDecoder(abi) for abi in STANDARD_ABIS]
        self._position: Position | None = None

    async def refresh(self) -> None:
        """Read the ABIs registered since the last refresh."""
        start = (
            None if self._position is None else Position(self._position.ms, self._position.seq + 1)
        )
        async for recorded in self.store.read_stream(
            self.store.names.chain_abis(), start=start, types=[AbiRegistered.event_type]
        ):
            self._position = recorded.position
            payload = recorded.event.payload
            data = payload.model_dump(mode="json")
            if data["chain_id"] == self.chain_id:
                self._registered[data["address"]] = _AbiDecoder(cast("ABI", data["abi"]))

    def decode(self, address: str, topics: Sequence[str], data: str) -> DecodedEvent | None:
        """The event a log is, or None: keep it raw."""
        raw_topics = [bytes.fromhex(topic[2:]) for topic in topics]
        raw_data = bytes.fromhex(data[2:])
        own = self._registered.get(address) or self._ours.get(address)
        for decoder in (own, *self._standards):
            if decoder is None:
                continue
            decoded = decoder.decode(raw_topics, raw_data)
            if decoded is not None:
                return decoded
        return None

    def transfer_names(self, address: str) -> tuple[str, str, str]:
        """The argument names of an ERC-20 `Transfer` of `address` (WETH says src, dst,
        wad), for the fast path that reads a transfer without decoding it."""
        own = self._registered.get(address) or self._ours.get(address)
        return own.transfer_names if own is not None else ("from", "to", "value")


class _AbiDecoder(EventDecoder):
    """An `EventDecoder` keeping addresses lowercase, knowing its `Transfer`'s names."""

    def __init__(self, abi: ABI) -> None:
        super().__init__(abi, checksum_addresses=False)
        self.transfer_names: tuple[str, str, str] = ("from", "to", "value")
        for entry in cast("list[dict[str, Any]]", abi):
            inputs: list[dict[str, Any]] = entry.get("inputs", [])
            is_transfer = entry.get("type") == "event" and entry.get("name") == "Transfer"
            if is_transfer and len(inputs) == 3:
                names = tuple(str(item.get("name", "")) for item in inputs)
                if all(names):
                    self.transfer_names = (names[0], names[1], names[2])
