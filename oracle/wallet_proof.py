"""A customer proves a wallet is theirs before the oracle links it.

A link is permanent: from then on the customer's rewards go to the wallet, and on chain their
coins, lifetime (so their tier), this period's count (so the cap) and the welcome flag move
there. A wallet named by mistake, or someone else's, would take all that for good, and fill the
other address's cap. So the wallet signs an EIP-712 `WalletOwnership(wallet, custodialAddress,
deadline)` message first, under the registry's domain (this chain, this deployment). The
custodial address ties the proof to one brand's customer; the deadline keeps it short-lived.
Nothing is sent on chain for it: the proof is checked here, by the oracle, before the link is
recorded.

An externally owned wallet's signature is checked with ecrecover; a deployed contract wallet (a
Safe, a smart account) answers ERC-1271's `isValidSignature` itself. A smart account not yet
deployed cannot answer, and is refused until it is.
"""

from __future__ import annotations

import os
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError, keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from oracle.identity import LinkRefused
from oracle.typed_data import Domain, typed_message

WALLET_OWNERSHIP_FIELDS = [
    {"name": "wallet", "type": "address"},
    {"name": "custodialAddress", "type": "address"},
    {"name": "deadline", "type": "uint256"},
]
# The longest a proof may stay valid: `wallet link-message --valid-for` allows no more.
MAX_PROOF_LIFETIME_SECONDS = 7 * 86400
# ERC-1271: what isValidSignature(bytes32,bytes) returns for a valid signature.
ERC1271_MAGIC_VALUE = bytes.fromhex("1626ba7e")
_ERC1271_ABI = [{
    "name": "isValidSignature", "type": "function", "stateMutability": "view",
    "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
    "outputs": [{"name": "magicValue", "type": "bytes4"}],
}]


def signature_from_hex(text: str) -> bytes:
    """The wallet's signature as given (0x-hex, the prefix optional): 65 bytes from a key, any
    length from a contract wallet, whose own format ERC-1271 receives unchanged."""
    try:
        signature = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise LinkRefused(f"signature: not hex: {text[:20]!r}") from None
    if not signature:
        raise LinkRefused("signature: empty")
    return signature


def ownership_typed_data(domain: Domain, wallet: str, custodial: str, deadline: int) -> dict[str, Any]:
    """The full EIP-712 message the wallet signs (what eth_signTypedData_v4 takes)."""
    message = {"wallet": to_checksum_address(wallet), "custodialAddress": to_checksum_address(custodial),
               "deadline": deadline}
    return typed_message(domain, "WalletOwnership", {"WalletOwnership": WALLET_OWNERSHIP_FIELDS}, message)


def require_ownership(
    w3: Web3, domain: Domain, wallet: str, custodial: str, deadline: int, signature: bytes, now: int
) -> None:
    """Raises LinkRefused unless `signature` is the wallet's over its WalletOwnership message
    and the deadline has not passed (nor lies more than MAX_PROOF_LIFETIME_SECONDS ahead).

    As OpenZeppelin's SignatureChecker: the wallet's own key first (an externally owned account,
    or one delegating to code under EIP-7702), then ERC-1271 for a contract."""
    wallet = to_checksum_address(wallet)
    if deadline < now:
        raise LinkRefused(f"the wallet's signature expired at {deadline} (now {now}): ask the customer to sign again")
    if deadline > now + MAX_PROOF_LIFETIME_SECONDS:
        raise LinkRefused(f"the proof's deadline {deadline} is more than {MAX_PROOF_LIFETIME_SECONDS} s ahead: a "
                          "proof is short-lived (`wallet link-message --valid-for`), ask the customer to sign again")
    signable = encode_typed_data(full_message=ownership_typed_data(domain, wallet, custodial, deadline))
    try:
        recovered: str | None = Account.recover_message(signable, signature=_with_v_27_or_28(signature))
    except (ValueError, TypeError, BadSignature, ValidationError):
        recovered = None  # not an ECDSA signature: perhaps a contract wallet's own format
    if recovered == wallet:
        return
    if w3.eth.get_code(wallet):
        _require_contract_wallet_approval(w3, wallet, signable, signature)
        return
    if recovered is None:
        raise LinkRefused(
            f"the wallet's signature is not a 65-byte ECDSA signature, and no contract is deployed at {wallet}: "
            "a smart account must be deployed (one transaction) before it can prove it is the customer's"
        )
    raise LinkRefused(
        f"the signature does not verify for WalletOwnership(wallet {wallet}, custodialAddress {custodial}, "
        f"deadline {deadline}) on chain {domain.chain_id}, registry {domain.verifying_contract}: check that the "
        "customer id and --deadline are those of the message `wallet link-message` printed, and that the "
        "customer signed it with this wallet"
    )


def _with_v_27_or_28(signature: bytes) -> bytes:
    """Some wallets (hardware ones among them) answer v as 0 or 1: the same ECDSA signature."""
    if len(signature) == 65 and signature[64] in (0, 1):
        return signature[:64] + bytes([signature[64] + 27])
    return signature


def _require_contract_wallet_approval(w3: Web3, wallet: str, signable: SignableMessage, signature: bytes) -> None:
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)  # the EIP-712 digest
    contract = w3.eth.contract(address=wallet, abi=_ERC1271_ABI)
    if not _approves(contract, digest, signature):
        raise LinkRefused(f"{wallet} is a contract that does not approve this signature "
                          "(ERC-1271 isValidSignature): nothing was linked")
    # A contract that approves anything (an uninitialised account whose owner is the zero
    # address, say) proves nothing: it must refuse a random digest with no signature.
    if _approves(contract, os.urandom(32), b""):
        raise LinkRefused(f"{wallet} is a contract that approves any signature (ERC-1271), so it proves nothing: "
                          "nothing was linked")


def _approves(contract: Any, digest: bytes, signature: bytes) -> bool:
    try:
        return bytes(contract.functions.isValidSignature(digest, signature).call()) == ERC1271_MAGIC_VALUE
    except (ContractLogicError, BadFunctionCallOutput, ValueError):  # a revert, or no such function
        return False
