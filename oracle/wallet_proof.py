"""A customer proves a wallet is theirs before the oracle links it.

A link is permanent: from then on the customer's rewards go to the wallet, and on chain their
coins, lifetime (so their tier), this period's count (so the cap) and the welcome flag move
there. A wallet named by mistake, or someone else's, would take all that for good, and fill the
other address's cap. So the wallet signs an EIP-712 `WalletOwnership(wallet, custodialAddress,
deadline)` message first, under the registry's domain (this chain, this deployment). The
custodial address ties the proof to one brand's customer; the deadline keeps it short-lived.
Nothing is sent on chain for it: the proof is checked here, by the oracle, before the link is
recorded.

An externally owned wallet's signature is checked with ecrecover; a contract wallet (a Safe, a
smart account) answers ERC-1271's `isValidSignature` itself.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError, keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import Web3Exception

from oracle.identity import LinkRefused
from oracle.typed_data import Domain, typed_message

WALLET_OWNERSHIP_FIELDS = [
    {"name": "wallet", "type": "address"},
    {"name": "custodialAddress", "type": "address"},
    {"name": "deadline", "type": "uint256"},
]
# ERC-1271: what isValidSignature(bytes32,bytes) returns for a valid signature.
ERC1271_MAGIC_VALUE = bytes.fromhex("1626ba7e")
_ERC1271_ABI = [{
    "name": "isValidSignature", "type": "function", "stateMutability": "view",
    "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
    "outputs": [{"name": "magicValue", "type": "bytes4"}],
}]


def ownership_typed_data(domain: Domain, wallet: str, custodial: str, deadline: int) -> dict[str, Any]:
    """The full EIP-712 message the wallet signs (what eth_signTypedData_v4 takes)."""
    message = {"wallet": to_checksum_address(wallet), "custodialAddress": to_checksum_address(custodial),
               "deadline": deadline}
    return typed_message(domain, "WalletOwnership", {"WalletOwnership": WALLET_OWNERSHIP_FIELDS}, message)


def require_ownership(
    w3: Web3, domain: Domain, wallet: str, custodial: str, deadline: int, signature: bytes, now: int
) -> None:
    """Raises LinkRefused unless `signature` is the wallet's over its WalletOwnership message
    and the deadline has not passed."""
    if deadline < now:
        raise LinkRefused(f"the wallet's signature expired at {deadline} (now {now}): ask the customer to sign again")
    signable = encode_typed_data(full_message=ownership_typed_data(domain, wallet, custodial, deadline))
    if w3.eth.get_code(to_checksum_address(wallet)):
        _require_contract_wallet_approval(w3, wallet, signable, signature)
        return
    try:
        recovered = Account.recover_message(signable, signature=signature)
    except (ValueError, TypeError, BadSignature, ValidationError) as exc:
        raise LinkRefused(f"the wallet's signature is malformed ({exc}): nothing was linked") from None
    if recovered.lower() != wallet.lower():
        raise LinkRefused(f"the signature is {recovered}'s, not the wallet {to_checksum_address(wallet)}'s: the "
                          "customer must sign with the wallet being linked (its WalletOwnership message)")


def _require_contract_wallet_approval(w3: Web3, wallet: str, signable: SignableMessage, signature: bytes) -> None:
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)  # the EIP-712 digest
    contract = w3.eth.contract(address=to_checksum_address(wallet), abi=_ERC1271_ABI)
    try:
        answer = bytes(contract.functions.isValidSignature(digest, signature).call())
    except (Web3Exception, ValueError):  # a revert, or no such function: not an approval
        answer = b""
    if answer != ERC1271_MAGIC_VALUE:
        raise LinkRefused(f"{to_checksum_address(wallet)} is a contract that does not approve this signature "
                          "(ERC-1271 isValidSignature): nothing was linked")
