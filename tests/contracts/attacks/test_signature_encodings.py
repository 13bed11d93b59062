"""Signature encodings the registry must refuse, beyond tests/contracts/registry/test_signatures.py:
odd lengths, a flipped v, a zero r; each refusal named, nothing recorded."""

import dataclasses

import brownie
import pytest

from tests.contracts.registry.helpers import BRAND, error, recover


@pytest.fixture
def batch(batches, alice):
    return batches.batch([batches.record(alice)])


@pytest.mark.parametrize("length", [1, 63, 67, 129])
def test_odd_length_signature_is_refused(batches, registry, batch, length):
    signature = batches.sign(batch)[0]
    malformed = (signature * 3)[:length]
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignatureLength", length)):
        batches.submit(batch, signatures=[malformed])
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_flipped_v_recovers_someone_else(batches, registry, batch):
    signature = batches.sign(batch)[0]
    flipped = signature[:64] + bytes([55 - signature[64]])  # 27 <-> 28: the other curve point
    digest = bytes(registry.batchDigest(batch.as_tuple()))
    try:
        other = recover(digest, flipped)
    except Exception:  # no point on the curve for that r: ecrecover gives address(0)
        pattern = error("ECDSAInvalidSignature")
    else:
        pattern = error("UnknownSigner", BRAND, other)
    with brownie.reverts(revert_pattern=pattern):
        batches.submit(batch, signatures=[flipped])
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_zero_r_is_an_invalid_signature(batches, registry, batch):
    signature = batches.sign(batch)[0]
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignature")):
        batches.submit(batch, signatures=[b"\x00" * 32 + signature[32:]])
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_a_quorum_padded_with_a_signature_over_another_batch_is_refused(
    batches, registry, batch, signer_keys, second_signer
):
    """A quorum of one, plus a registered signer's signature over another batch: every
    signature given must verify, not just enough of them."""
    other = dataclasses.replace(batch, deadline=batch.deadline + 1)
    digest = bytes(registry.batchDigest(batch.as_tuple()))
    good = batches.sign(batch, keys=[signer_keys[0]])[0]
    stray = batches.sign(other, keys=[signer_keys[1]])[0]
    stray_signer = recover(digest, stray)  # over this batch it recovers a stranger
    signatures = sorted([good, stray], key=lambda s: int(recover(digest, s), 16))
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, stray_signer)):
        batches.submit(batch, signatures=signatures)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


@pytest.fixture
def second_signer(registry, admin, signer_addresses):
    """Signer 1 registered too (the quorum stays one): its signature alone would count."""
    registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
