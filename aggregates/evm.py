"""EVM addresses, checksummed (EIP-55), and ENS names kept as labels."""

from __future__ import annotations

import re
from typing import Annotated

from Crypto.Hash import keccak
from pydantic import AfterValidator

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ENS = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+eth$")


def checksum_address(address: str) -> str:
    """The EIP-55 spelling of an address; a mixed-case input must already be it.

    All-lowercase or all-uppercase input carries no checksum and is accepted; mixed case
    is a checksum, and a wrong one means a typo worth refusing.
    """
    if not _ADDRESS.match(address):
        raise ValueError("an EVM address is 0x followed by 40 hexadecimal digits")
    hex_digits = address[2:]
    digest = keccak.new(digest_bits=256, data=hex_digits.lower().encode()).hexdigest()
    spelled = "0x" + "".join(
        char.upper() if int(digest[i], 16) >= 8 else char
        for i, char in enumerate(hex_digits.lower())
    )
    mixed = hex_digits != hex_digits.lower() and hex_digits != hex_digits.upper()
    if mixed and address != spelled:
        raise ValueError("the address's mixed-case checksum is wrong (a typo?)")
    return spelled


def ens_name(name: str) -> str:
    """An ENS name such as ``vitalik.eth``, lowercased."""
    lowered = name.strip().lower()
    if not _ENS.match(lowered):
        raise ValueError("an ENS name is labels of letters, digits and hyphens ending in .eth")
    return lowered


EvmAddress = Annotated[str, AfterValidator(checksum_address)]
EnsName = Annotated[str, AfterValidator(ens_name)]
