"""Which refused batches are signed again: only those whose signatures come from other keys than
the oracle's now (Pipeline._signed_by_other_keys); the Anvil test in
tests/integration/test_pipeline_on_chain.py runs the whole path."""

from __future__ import annotations

from types import SimpleNamespace

from eth_account import Account
from eth_utils import keccak

from oracle.pipeline import Pipeline
from oracle.typed_data import sign_digest

DIGEST = keccak(text="a batch digest")
KEYS = [keccak(text=f"signer-{n}") for n in range(3)]
ADDRESSES = [Account.from_key(k).address for k in KEYS]


def signed_by_other_keys(signers: list[str], signatures: list[bytes]) -> bool:
    pipeline = SimpleNamespace(signers=[SimpleNamespace(address=a) for a in signers])
    return Pipeline._signed_by_other_keys(pipeline, DIGEST, signatures)  # type: ignore[arg-type]


def test_the_same_keys_are_not_signed_again() -> None:
    signatures = [sign_digest(k, DIGEST) for k in KEYS[:2]]
    assert not signed_by_other_keys([ADDRESSES[1].lower(), ADDRESSES[0]], signatures)


def test_a_key_added_or_rotated_since_means_signing_again() -> None:
    one = [sign_digest(KEYS[0], DIGEST)]
    assert signed_by_other_keys(ADDRESSES[:2], one)  # a co-signer added after the quorum rose
    assert signed_by_other_keys([ADDRESSES[2]], one)  # the key rotated


def test_unusable_stored_signatures_are_replaced() -> None:
    assert signed_by_other_keys(ADDRESSES[:1], [b"\x00" * 64 + b"\x1b"])  # no key recovers from it (BadSignature)
    assert signed_by_other_keys(ADDRESSES[:1], [b"\x00" * 10])  # not 65 bytes
