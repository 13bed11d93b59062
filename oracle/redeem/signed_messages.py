"""The two EIP-712 messages a customer signs to redeem without gas, built exactly as the
contracts hash them, in a JSON form a wallet's eth_signTypedData_v4 accepts as is.

- `Permit` (EIP-2612, OpenZeppelin's ERC20Permit on the coin): lets TierRedemption take up to
  `maxPrice` coins from the customer until `deadline`.
- `ForwardRequest` (OpenZeppelin's ERC2771Forwarder): asks the forwarder to call TierRedemption's
  `redeemWithPermit(itemId, maxPrice, deadline, v, r, s)` as the customer, with a fixed gas
  limit, until `deadline`. The permit's signature is part of that call data, so the request
  signature covers the whole redemption: item, maximum price, permit.

Chicken and egg: the request's call data carries the permit signature, so the customer signs the
permit first, then the request built from it (two prompts in the wallet, in that order).

Numbers above JavaScript's safe integers (coin amounts, the gas) are decimal strings and bytes
are 0x-hex: eth-account hashes those forms exactly as integers and bytes, and wallets accept them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from oracle.typed_data import Domain, permit_typed_data, typed_message

# OpenZeppelin 5.4 ERC2771Forwarder's _FORWARD_REQUEST_TYPEHASH, field by field:
# ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)
FORWARD_REQUEST_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "gas", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint48"},
    {"name": "data", "type": "bytes"},
]
MAX_UINT48 = 2**48 - 1
# OpenZeppelin's ECDSA accepts s only in the lower half of the curve order (EIP-2).
_SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


class SignatureFormatError(ValueError):
    """A signature that is not 65 bytes of hex."""


@dataclass(frozen=True)
class ForwardRequest:
    """What the forwarder executes: `data` sent to `to` as `sender`, once (the nonce), until
    `deadline`, with exactly `gas` for the call."""

    sender: str
    to: str
    gas: int
    nonce: int
    deadline: int
    data: bytes
    value: int = 0

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """The full EIP-712 message (`domain`: the forwarder's eip712Domain())."""
        message = {
            "from": to_checksum_address(self.sender),
            "to": to_checksum_address(self.to),
            "value": str(self.value),
            "gas": str(self.gas),
            "nonce": str(self.nonce),
            "deadline": self.deadline,
            "data": "0x" + self.data.hex(),
        }
        return typed_message(domain, "ForwardRequest", {"ForwardRequest": FORWARD_REQUEST_FIELDS}, message)

    def as_call_argument(self, signature: bytes) -> tuple[str, str, int, int, int, bytes, bytes]:
        """The forwarder's ForwardRequestData tuple (nonce is not in it: the forwarder reads its own)."""
        return (
            to_checksum_address(self.sender), to_checksum_address(self.to), self.value, self.gas, self.deadline,
            self.data, signature,
        )


def domain_of(eip712_domain: Any) -> Domain:
    """A Domain from a contract's ERC-5267 `eip712Domain()` answer."""
    _fields, name, version, chain_id, verifying_contract, _salt, _extensions = eip712_domain
    return Domain(chain_id=int(chain_id), verifying_contract=str(verifying_contract), name=str(name), version=str(version))


def json_permit(domain: Domain, owner: str, spender: str, value: int, nonce: int, deadline: int) -> dict[str, Any]:
    """The EIP-2612 Permit message, with its amounts as decimal strings (JSON-safe)."""
    typed = permit_typed_data(domain, owner, spender, value, nonce, deadline)
    typed["message"] = {**typed["message"], "value": str(value), "nonce": str(nonce), "deadline": str(deadline)}
    return typed


def sign_typed(private_key: bytes | str, typed: dict[str, Any]) -> bytes:
    """65 bytes r || s || v (v 27/28), as eth_signTypedData_v4 returns them."""
    return bytes(Account.sign_typed_data(private_key, full_message=typed).signature)


def parse_signature(text: str) -> bytes:
    """A 0x-hex 65-byte signature from a wallet, with v as 27 or 28: some wallets (hardware ones
    among them) answer v as 0 or 1, which eth-account accepts but OpenZeppelin's ECDSA, on chain,
    does not; it is the same signature, so it is normalised here, and any other v is refused."""
    try:
        signature = bytes.fromhex(text.removeprefix("0x"))
    except (ValueError, AttributeError):
        raise SignatureFormatError("a signature must be 0x-prefixed hex") from None
    if len(signature) != 65:
        raise SignatureFormatError(f"a signature is 65 bytes, got {len(signature)}")
    v = signature[64]
    if v in (0, 1):
        return signature[:64] + bytes([v + 27])
    if v not in (27, 28):
        raise SignatureFormatError(f"v is {v}: a typed-data signature has v 27 or 28 (or 0 or 1)")
    return signature


def recover_typed(typed: dict[str, Any], signature: bytes) -> str:
    """The address that signed `typed`; SignatureFormatError for a signature the contracts would
    refuse: OpenZeppelin's ECDSA rejects a high-s (malleable) one, and so does this."""
    if int.from_bytes(signature[32:64], "big") > _SECP256K1_HALF_ORDER:
        raise SignatureFormatError("a high-s (malleable) signature: the contracts refuse it")
    try:
        return str(Account.recover_message(encode_typed_data(full_message=typed), signature=signature))
    except Exception as exc:  # eth-keys raises several types for a malformed signature
        raise SignatureFormatError(f"not a valid signature: {exc}") from None


def split_signature(signature: bytes) -> tuple[int, bytes, bytes]:
    """(v, r, s) for ERC20Permit.permit; v normalised to 27/28."""
    v = signature[64] if signature[64] >= 27 else signature[64] + 27
    return v, signature[:32], signature[32:64]
