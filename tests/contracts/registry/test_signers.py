"""Signer set administration: add, remove, rotate; a signature counts only while its key is registered."""

import brownie
import pytest

from .helpers import BRAND, error


def test_add_signer_registers_it_and_emits(registry, admin, signer_addresses):
    tx = registry.addSigner(signer_addresses[1], {"from": admin})
    assert registry.isSigner(signer_addresses[1])
    assert registry.signerCount() == 2
    assert tx.events["SignerAdded"] == {"signer": signer_addresses[1]}


def test_remove_signer_unregisters_it_and_emits(registry, admin, signer_addresses):
    registry.addSigner(signer_addresses[1], {"from": admin})
    tx = registry.removeSigner(signer_addresses[1], {"from": admin})
    assert not registry.isSigner(signer_addresses[1])
    assert registry.signerCount() == 1
    assert tx.events["SignerRemoved"] == {"signer": signer_addresses[1]}


@pytest.mark.parametrize(
    "call",
    [
        lambda r, s, sender: r.addSigner(s[1], {"from": sender}),
        lambda r, s, sender: r.removeSigner(s[0], {"from": sender}),
        lambda r, s, sender: r.rotateSigner(s[0], s[1], {"from": sender}),
    ],
    ids=["addSigner", "removeSigner", "rotateSigner"],
)
def test_only_the_admin_manages_signers(registry, signer_addresses, outsider, call):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, b"\x00" * 32)):
        call(registry, signer_addresses, outsider)
    assert registry.isSigner(signer_addresses[0])
    assert not registry.isSigner(signer_addresses[1])


def test_removed_signer_signature_made_before_removal_is_refused(
    batches, registry, admin, signer_keys, signer_addresses, alice
):
    registry.addSigner(signer_addresses[1], {"from": admin})
    batch = batches.batch([batches.record(alice)])
    signatures = batches.sign(batch, keys=[signer_keys[1]])
    registry.removeSigner(signer_addresses[1], {"from": admin})
    with brownie.reverts(revert_pattern=error("UnknownSigner", signer_addresses[1])):
        batches.submit(batch, signatures=signatures)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_rotate_signer_replaces_the_key_and_emits_both_events(registry, admin, signer_addresses):
    tx = registry.rotateSigner(signer_addresses[0], signer_addresses[1], {"from": admin})
    assert not registry.isSigner(signer_addresses[0])
    assert registry.isSigner(signer_addresses[1])
    assert registry.signerCount() == 1
    assert tx.events["SignerRemoved"] == {"signer": signer_addresses[0]}
    assert tx.events["SignerAdded"] == {"signer": signer_addresses[1]}


def test_after_rotation_the_new_key_signs(batches, registry, admin, signer_keys, signer_addresses, alice):
    registry.rotateSigner(signer_addresses[0], signer_addresses[1], {"from": admin})
    batch = batches.batch([batches.record(alice)])
    tx = batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[1]]))
    assert tx.events["BatchRecorded"]["recorded"] == 1


def test_after_rotation_the_old_key_is_refused(batches, registry, admin, signer_keys, signer_addresses, alice):
    batch = batches.batch([batches.record(alice)])
    signed_before = batches.sign(batch, keys=[signer_keys[0]])
    registry.rotateSigner(signer_addresses[0], signer_addresses[1], {"from": admin})
    with brownie.reverts(revert_pattern=error("UnknownSigner", signer_addresses[0])):
        batches.submit(batch, signatures=signed_before)


def test_adding_a_registered_signer_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("SignerAlreadyRegistered", signer_addresses[0])):
        registry.addSigner(signer_addresses[0], {"from": admin})
    assert registry.signerCount() == 1


def test_adding_the_zero_address_as_signer_is_refused(registry, admin):
    zero = "0x" + "00" * 20
    with brownie.reverts(revert_pattern=error("SignerAlreadyRegistered", zero)):
        registry.addSigner(zero, {"from": admin})
    assert not registry.isSigner(zero)


def test_removing_an_unregistered_signer_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("SignerNotRegistered", signer_addresses[1])):
        registry.removeSigner(signer_addresses[1], {"from": admin})


def test_rotating_from_an_unregistered_signer_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("SignerNotRegistered", signer_addresses[1])):
        registry.rotateSigner(signer_addresses[1], signer_addresses[2], {"from": admin})
    assert not registry.isSigner(signer_addresses[2])


def test_rotating_onto_a_registered_signer_is_refused_and_keeps_the_old_one(registry, admin, signer_addresses):
    registry.addSigner(signer_addresses[1], {"from": admin})
    with brownie.reverts(revert_pattern=error("SignerAlreadyRegistered", signer_addresses[1])):
        registry.rotateSigner(signer_addresses[0], signer_addresses[1], {"from": admin})
    assert registry.isSigner(signer_addresses[0])
    assert registry.signerCount() == 2


def test_removing_the_last_signer_breaks_the_quorum_and_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("InvalidQuorum", 1, 0)):
        registry.removeSigner(signer_addresses[0], {"from": admin})
    assert registry.isSigner(signer_addresses[0])
