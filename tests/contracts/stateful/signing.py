"""Signature sets for batches, well-formed or deliberately broken, and the registry's verdict.

`signatures_for` builds the signature list a rule sends (a valid quorum, or one of the attacks
the registry must refuse); `quorum_error` predicts, the way FeedbackRegistry._requireQuorum and
OpenZeppelin's ECDSA.recover check them in order, which custom error a list gets (None: it
passes). The prediction recovers each signer with eth-keys, independently of the contract.
"""

from __future__ import annotations

from eth_account import Account
from eth_keys import keys
from eth_keys.exceptions import BadSignature

from oracle.typed_data import sign_digest
from tests.contracts.revert_patterns import error

from .model import ZERO_ADDRESS

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# How a rule signs. "quorum" and "all_signers" are valid; every other variant is an attack.
VALID = ("quorum", "all_signers")
ATTACKS = (
    "missing",  # one signature fewer than the quorum
    "unregistered",  # a key that is not (or no longer) a registered signer
    "other_digest",  # signed over another batch (a tampered batch recovers a stranger)
    "high_s",  # the malleable twin of a valid signature
    "twin_pair",  # a signature and its own malleable twin: one signer counted twice?
    "bad_v",  # v outside 27/28
    "compact_64",  # 64 bytes (EIP-2098 compact form is not accepted)
    "odd_length",  # 66 bytes
    "same_twice",  # the same valid signature twice
    "descending",  # valid signatures, not in ascending signer order
    "garbage",  # bytes that are no signature at all
)


def _address(key: bytes) -> str:
    return Account.from_key(key).address


def _ascending(keys_: list[bytes]) -> list[bytes]:
    return sorted(keys_, key=lambda k: int(_address(k), 16))


def _twin(signature: bytes) -> bytes:
    """s' = n - s with v flipped: the other valid signature of the same key and digest."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def signatures_for(
    variant: str, digest: bytes, other_digest: bytes, signer_keys: list[bytes], outsider_keys: list[bytes], quorum: int
) -> list[bytes]:
    """The signature list of `variant` over `digest`. `signer_keys` are the registered signers'
    keys, `outsider_keys` keys that are not registered (former signers included)."""
    ordered = _ascending(signer_keys)
    chosen = ordered[:quorum]
    signed = [sign_digest(k, digest) for k in chosen]
    if variant == "quorum":
        return signed
    if variant == "all_signers":
        return [sign_digest(k, digest) for k in ordered]
    if variant == "missing":
        return signed[:-1]
    if variant == "unregistered":
        stranger = sign_digest(outsider_keys[0], digest)
        return [stranger] + signed[1:]
    if variant == "other_digest":
        return [sign_digest(k, other_digest) for k in chosen]
    if variant == "high_s":
        return [_twin(signed[0])] + signed[1:]
    if variant == "twin_pair":
        return [signed[0], _twin(signed[0])] + signed[1:]
    if variant == "bad_v":
        return [signed[0][:64] + bytes([29])] + signed[1:]
    if variant == "compact_64":
        return [signed[0][:64]] + signed[1:]
    if variant == "odd_length":
        return [signed[0] + b"\x00"] + signed[1:]
    if variant == "same_twice":
        return [signed[0]] + signed
    if variant == "descending":
        return [sign_digest(k, digest) for k in reversed(ordered)]
    if variant == "garbage":
        return [bytes([0x5A]) * 64 + b"\x1b"] + signed[1:]
    raise ValueError(f"unknown signing variant {variant!r}")


def _recover(digest: bytes, signature: bytes) -> str | None:
    """ecrecover: the signer's address, or None where the precompile returns address(0)."""
    v = signature[64]
    if v not in (27, 28):
        return None
    try:
        signature_ = keys.Signature(vrs=(v - 27, int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")))
        return signature_.recover_public_key_from_msg_hash(digest).to_checksum_address()
    except (BadSignature, ValueError):
        return None


def quorum_error(
    digest: bytes, signatures: list[bytes], quorum: int, registered: set[str], brand_id: int
) -> str | None:
    """The revert pattern `_requireQuorum` gives this list for a batch of `brand_id`, whose
    signers are `registered`, or None if it reaches the quorum."""
    if len(signatures) < quorum:
        return error("QuorumNotReached", len(signatures), quorum)
    previous = ZERO_ADDRESS
    for signature in signatures:
        if len(signature) != 65:
            return error("ECDSAInvalidSignatureLength", len(signature))
        s = int.from_bytes(signature[32:64], "big")
        if s > SECP256K1_N // 2:
            return error("ECDSAInvalidSignatureS", signature[32:64])
        signer = _recover(digest, signature)
        if signer is None:
            return error("ECDSAInvalidSignature")
        if int(signer, 16) <= int(previous, 16):
            return error("SignersNotAscending", previous, signer)
        if signer.lower() not in registered:
            return error("UnknownSigner", brand_id, signer)
        previous = signer
    return None
