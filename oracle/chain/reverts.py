"""Turn revert data into the contract's custom error name and arguments.

An RPC node answers a failed call or gas estimate with raw revert data: a 4-byte selector and
ABI-encoded arguments. The selectors come from the contracts' shipped ABIs (which include the
OpenZeppelin errors they can raise), plus Solidity's built-in Error(string) and Panic(uint256).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from oracle.abi import load_abi

_CONTRACTS = ("FeedbackRegistry", "ServiceCoin", "TierRedemption", "ServiceCoinForwarder")


@dataclass(frozen=True)
class DecodedRevert:
    name: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(_render(a) for a in self.args)})"


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _type_of(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type_of(c) for c in param["components"]) + ")" + param["type"][5:]
    return str(param["type"])


@cache
def _errors() -> dict[bytes, tuple[str, tuple[str, ...]]]:
    table: dict[bytes, tuple[str, tuple[str, ...]]] = {
        function_signature_to_4byte_selector("Error(string)"): ("Error", ("string",)),
        function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ("uint256",)),
    }
    for contract in _CONTRACTS:
        for entry in load_abi(contract):
            if entry["type"] == "error":
                types = tuple(_type_of(p) for p in entry["inputs"])
                selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
                table[selector] = (entry["name"], types)
    return table


def decode_revert(data: bytes | str | None) -> DecodedRevert | None:
    """The custom error behind revert data; None when there is no data or it is not ours."""
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            return None
    if not data or len(data) < 4:
        return None
    known = _errors().get(data[:4])
    if known is None:
        return None
    name, types = known
    try:
        args = decode(list(types), data[4:])
    except DecodingError:
        return None
    return DecodedRevert(name, tuple(to_checksum_address(a) if t == "address" else a for t, a in zip(types, args)))
