"""Signature checks: only the exact batch, on this chain, for this registry, by a registered
signer, in canonical (low-s, 65-byte) form is accepted; each refusal names its error."""

import dataclasses
import re

import brownie
import pytest
from eth_utils import keccak

from oracle.typed_data import Domain, batch_digest, sign_digest
from scripts.deploy import deploy

from .helpers import BRAND, COIN, error, high_s_twin, recover, split


def _tamper_record(batch, **changes):
    first = dataclasses.replace(batch.records[0], **changes)
    return dataclasses.replace(batch, records=(first, *batch.records[1:]))


TAMPERINGS = {
    "customer": lambda b, bob: _tamper_record(b, customer=str(bob)),
    "seq": lambda b, bob: _tamper_record(b, seq=b.records[0].seq + 1000),
    "kind": lambda b, bob: _tamper_record(b, kind=4),
    "occurred_at": lambda b, bob: _tamper_record(b, occurred_at=b.records[0].occurred_at - 1),
    "event_id": lambda b, bob: _tamper_record(b, event_id=keccak(text="another event")),
    "content_commitment": lambda b, bob: _tamper_record(b, content_commitment=keccak(text="other content")),
    "brand_id": lambda b, bob: dataclasses.replace(b, brand_id=2),  # registered below: only the signature fails
    "policy_hash": lambda b, bob: dataclasses.replace(b, policy_hash=keccak(text="policy-v666")),
    "deadline": lambda b, bob: dataclasses.replace(b, deadline=b.deadline + 1),
    "record_dropped": lambda b, bob: dataclasses.replace(b, records=b.records[:1]),
    "records_swapped": lambda b, bob: dataclasses.replace(b, records=b.records[::-1]),
}


@pytest.mark.parametrize("field", TAMPERINGS)
def test_batch_changed_after_signing_recovers_an_unknown_signer(
    batches, registry, admin, domain, alice, bob, coin, field
):
    if field == "brand_id":
        registry.registerBrand(2, 10**24, {"from": admin})
    signed = batches.batch([batches.record(alice), batches.record(alice)])
    signatures = batches.sign(signed)
    tampered = TAMPERINGS[field](signed, bob)
    recovered = recover(batch_digest(domain, tampered), signatures[0])
    with brownie.reverts(revert_pattern=error("UnknownSigner", tampered.brand_id, recovered)):
        batches.submit(tampered, signatures=signatures)
    assert coin.totalSupply() == 0


def test_anyone_may_relay_a_signed_batch(batches, coin, alice, outsider):
    tx = batches.submit(batches.batch([batches.record(alice)]), sender=outsider)
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert coin.balanceOf(outsider) == 0
    assert coin.balanceOf(alice) == 10 * COIN


def test_batch_signed_for_another_chain_is_refused(batches, registry, alice, chain):
    batch = batches.batch([batches.record(alice)])
    other_chain = Domain(chain_id=chain.id + 1, verifying_contract=registry.address)
    signatures = batches.sign(batch, domain=other_chain)
    recovered = recover(bytes(registry.batchDigest(batch.as_tuple())), signatures[0])
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, recovered)):
        batches.submit(batch, signatures=signatures)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_batch_signed_for_another_registry_is_refused(batches, registry, admin, config, alice, chain):
    other = deploy(admin, config).registry
    batch = batches.batch([batches.record(alice)])
    signatures = batches.sign(batch, domain=Domain(chain_id=chain.id, verifying_contract=other.address))
    other.submitBatch(batch.as_packed(), signatures, {"from": admin})  # valid where it was meant for
    recovered = recover(bytes(registry.batchDigest(batch.as_tuple())), signatures[0])
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, recovered)):
        batches.submit(batch, signatures=signatures)
    assert other.isRecorded(BRAND, batch.records[0].seq)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_high_s_twin_of_a_valid_signature_is_refused(batches, alice):
    batch = batches.batch([batches.record(alice)])
    twin = high_s_twin(batches.sign(batch)[0])
    _, s, _ = split(twin)
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignatureS", s.to_bytes(32, "big"))):
        batches.submit(batch, signatures=[twin])


@pytest.mark.parametrize("v", [0, 1, 29])
def test_v_other_than_27_or_28_is_an_invalid_signature(batches, alice, v):
    batch = batches.batch([batches.record(alice)])
    signature = batches.sign(batch)[0]
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignature")):
        batches.submit(batch, signatures=[signature[:64] + bytes([v])])


@pytest.mark.parametrize("length", [0, 64, 66])
def test_signature_of_another_length_than_65_bytes_is_refused(batches, alice, length):
    batch = batches.batch([batches.record(alice)])
    signature = batches.sign(batch)[0]
    malformed = (signature * 2)[:length]  # 64: the EIP-2098 compact length is not accepted either
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignatureLength", length)):
        batches.submit(batch, signatures=[malformed])


def test_all_zero_signature_never_counts_as_the_zero_address(batches, alice):
    batch = batches.batch([batches.record(alice)])
    for zero in (b"\x00" * 65, b"\x00" * 64 + b"\x1b", b"\x00" * 64 + b"\x1c"):
        with brownie.reverts(revert_pattern=error("ECDSAInvalidSignature")):
            batches.submit(batch, signatures=[zero])


@pytest.mark.parametrize("fill", [0x01, 0x5A])
def test_garbage_signature_is_refused(batches, registry, alice, fill):
    batch = batches.batch([batches.record(alice)])
    garbage = bytes([fill]) * 64 + b"\x1b"
    # Either no point recovers (invalid) or some unregistered address does; never address(0).
    pattern = error("ECDSAInvalidSignature") + "|" + re.escape(f"UnknownSigner: {BRAND}, ") + "(?!0x0{40}$)0x[0-9a-f]{40}"
    with brownie.reverts(revert_pattern=pattern):
        batches.submit(batch, signatures=[garbage])
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_signature_by_an_unregistered_key_is_refused(batches, signer_keys, signer_addresses, alice):
    batch = batches.batch([batches.record(alice)])
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, signer_addresses[1])):
        batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[1]]))


def test_signature_over_another_batch_digest_is_refused(batches, signer_keys, domain, alice):
    batch = batches.batch([batches.record(alice)])
    other = batches.batch([batches.record(alice)])
    signature = sign_digest(signer_keys[0], batch_digest(domain, other))
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, recover(batch_digest(domain, batch), signature))):
        batches.submit(batch, signatures=[signature])
