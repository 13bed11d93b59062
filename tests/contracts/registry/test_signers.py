"""Signer set administration, per brand: add, remove, rotate; a signature counts only while its
key is registered, and only for the brand it is registered for."""

import brownie
import pytest

from .helpers import BRAND, COIN, error

OTHER_BRAND = 2


def signer_count(registry, brand_id=BRAND):
    return registry.brandOf(brand_id)["signerCount"]


@pytest.fixture
def other_brand(registry, admin, signer_addresses):
    """Brand 2, signed for by signer 1 alone (brand 1 keeps signer 0)."""
    registry.registerBrand(OTHER_BRAND, 1_000 * COIN, {"from": admin})
    registry.addSigner(OTHER_BRAND, signer_addresses[1], {"from": admin})
    return OTHER_BRAND


def test_add_signer_registers_it_for_its_brand_and_emits(registry, admin, signer_addresses):
    tx = registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
    assert registry.isSigner(BRAND, signer_addresses[1])
    assert signer_count(registry) == 2
    assert tx.events["SignerAdded"] == {"brandId": BRAND, "signer": signer_addresses[1]}


def test_remove_signer_unregisters_it_and_emits(registry, admin, signer_addresses):
    registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
    tx = registry.removeSigner(BRAND, signer_addresses[1], {"from": admin})
    assert not registry.isSigner(BRAND, signer_addresses[1])
    assert signer_count(registry) == 1
    assert tx.events["SignerRemoved"] == {"brandId": BRAND, "signer": signer_addresses[1]}


@pytest.mark.parametrize(
    "call",
    [
        lambda r, s, sender: r.addSigner(BRAND, s[1], {"from": sender}),
        lambda r, s, sender: r.removeSigner(BRAND, s[0], {"from": sender}),
        lambda r, s, sender: r.rotateSigner(BRAND, s[0], s[1], {"from": sender}),
    ],
    ids=["addSigner", "removeSigner", "rotateSigner"],
)
def test_only_the_admin_manages_signers(registry, signer_addresses, outsider, call):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, b"\x00" * 32)):
        call(registry, signer_addresses, outsider)
    assert registry.isSigner(BRAND, signer_addresses[0])
    assert not registry.isSigner(BRAND, signer_addresses[1])


def test_removed_signer_signature_made_before_removal_is_refused(
    batches, registry, admin, signer_keys, signer_addresses, alice
):
    registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
    batch = batches.batch([batches.record(alice)])
    signatures = batches.sign(batch, keys=[signer_keys[1]])
    registry.removeSigner(BRAND, signer_addresses[1], {"from": admin})
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, signer_addresses[1])):
        batches.submit(batch, signatures=signatures)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_rotate_signer_replaces_the_key_and_emits_both_events(registry, admin, signer_addresses):
    tx = registry.rotateSigner(BRAND, signer_addresses[0], signer_addresses[1], {"from": admin})
    assert not registry.isSigner(BRAND, signer_addresses[0])
    assert registry.isSigner(BRAND, signer_addresses[1])
    assert signer_count(registry) == 1
    assert tx.events["SignerRemoved"] == {"brandId": BRAND, "signer": signer_addresses[0]}
    assert tx.events["SignerAdded"] == {"brandId": BRAND, "signer": signer_addresses[1]}


def test_after_rotation_the_new_key_signs(batches, registry, admin, signer_keys, signer_addresses, alice):
    registry.rotateSigner(BRAND, signer_addresses[0], signer_addresses[1], {"from": admin})
    batch = batches.batch([batches.record(alice)])
    tx = batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[1]]))
    assert tx.events["BatchRecorded"]["recorded"] == 1


def test_after_rotation_the_old_key_is_refused(batches, registry, admin, signer_keys, signer_addresses, alice):
    batch = batches.batch([batches.record(alice)])
    signed_before = batches.sign(batch, keys=[signer_keys[0]])
    registry.rotateSigner(BRAND, signer_addresses[0], signer_addresses[1], {"from": admin})
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, signer_addresses[0])):
        batches.submit(batch, signatures=signed_before)


def test_adding_a_registered_signer_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("SignerAlreadyRegistered", BRAND, signer_addresses[0])):
        registry.addSigner(BRAND, signer_addresses[0], {"from": admin})
    assert signer_count(registry) == 1


def test_adding_the_zero_address_as_signer_is_refused(registry, admin):
    zero = "0x" + "00" * 20
    with brownie.reverts(revert_pattern=error("SignerAlreadyRegistered", BRAND, zero)):
        registry.addSigner(BRAND, zero, {"from": admin})
    assert not registry.isSigner(BRAND, zero)


def test_removing_an_unregistered_signer_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("SignerNotRegistered", BRAND, signer_addresses[1])):
        registry.removeSigner(BRAND, signer_addresses[1], {"from": admin})


def test_rotating_from_an_unregistered_signer_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("SignerNotRegistered", BRAND, signer_addresses[1])):
        registry.rotateSigner(BRAND, signer_addresses[1], signer_addresses[2], {"from": admin})
    assert not registry.isSigner(BRAND, signer_addresses[2])


def test_rotating_onto_a_registered_signer_is_refused_and_keeps_the_old_one(registry, admin, signer_addresses):
    registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
    with brownie.reverts(revert_pattern=error("SignerAlreadyRegistered", BRAND, signer_addresses[1])):
        registry.rotateSigner(BRAND, signer_addresses[0], signer_addresses[1], {"from": admin})
    assert registry.isSigner(BRAND, signer_addresses[0])
    assert signer_count(registry) == 2


def test_removing_the_last_signer_breaks_the_quorum_and_is_refused(registry, admin, signer_addresses):
    with brownie.reverts(revert_pattern=error("InvalidQuorum", 1, 0)):
        registry.removeSigner(BRAND, signer_addresses[0], {"from": admin})
    assert registry.isSigner(BRAND, signer_addresses[0])


@pytest.mark.parametrize(
    "call",
    [
        lambda r, s, sender: r.addSigner(OTHER_BRAND, s[1], {"from": sender}),
        lambda r, s, sender: r.removeSigner(OTHER_BRAND, s[1], {"from": sender}),
        lambda r, s, sender: r.rotateSigner(OTHER_BRAND, s[1], s[2], {"from": sender}),
        lambda r, s, sender: r.setQuorum(OTHER_BRAND, 1, {"from": sender}),
    ],
    ids=["addSigner", "removeSigner", "rotateSigner", "setQuorum"],
)
def test_signers_of_an_unregistered_brand_are_refused(registry, admin, signer_addresses, call):
    with brownie.reverts(revert_pattern=error("BrandNotRegistered", OTHER_BRAND)):
        call(registry, signer_addresses, admin)
    assert not registry.isSigner(OTHER_BRAND, signer_addresses[1])


# ---------------------------------------------------------------- one brand, one set of keys


def test_a_signer_of_one_brand_cannot_sign_for_another(batches, registry, signer_keys, signer_addresses, other_brand, alice):
    """The attack: brand 2's key (stolen, or a brand gone rogue) signs a batch for brand 1, taking
    brand 1's next sequence numbers. Refused, and brand 1's sequence numbers stay free."""
    forged = batches.batch([batches.record(alice), batches.record(alice)], brand_id=BRAND)
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, signer_addresses[1])):
        batches.submit(forged, signatures=batches.sign(forged, keys=[signer_keys[1]]))
    assert not any(registry.isRecorded(BRAND, record.seq) for record in forged.records)
    assert registry.brandOf(BRAND)["issuedInPeriod"] == 0

    tx = batches.submit(forged, signatures=batches.sign(forged, keys=[signer_keys[0]]))
    assert tx.events["BatchRecorded"]["recorded"] == 2


def test_each_brand_is_signed_by_its_own_signers(batches, registry, signer_keys, signer_addresses, other_brand, alice):
    batch = batches.batch([batches.record(alice)], brand_id=other_brand)
    with brownie.reverts(revert_pattern=error("UnknownSigner", other_brand, signer_addresses[0])):
        batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[0]]))
    tx = batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[1]]))
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert registry.isRecorded(other_brand, batch.records[0].seq)


def test_one_key_may_sign_for_two_brands_once_registered_for_each(
    batches, registry, admin, signer_keys, signer_addresses, other_brand, alice
):
    registry.addSigner(other_brand, signer_addresses[0], {"from": admin})
    for brand_id in (BRAND, other_brand):
        batch = batches.batch([batches.record(alice)], brand_id=brand_id)
        tx = batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[0]]))
        assert tx.events["BatchRecorded"]["recorded"] == 1


def test_removing_a_signer_from_one_brand_keeps_it_for_the_other(registry, admin, signer_addresses, other_brand):
    registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
    registry.addSigner(other_brand, signer_addresses[2], {"from": admin})
    registry.removeSigner(other_brand, signer_addresses[1], {"from": admin})
    assert not registry.isSigner(other_brand, signer_addresses[1])
    assert registry.isSigner(BRAND, signer_addresses[1])
    assert (signer_count(registry), signer_count(registry, other_brand)) == (2, 1)


def test_a_new_brand_has_a_quorum_of_one_and_no_signer(batches, registry, admin, signer_keys, signer_addresses, alice):
    registry.registerBrand(OTHER_BRAND, 1_000 * COIN, {"from": admin})
    brand = registry.brandOf(OTHER_BRAND)
    assert (brand["quorum"], brand["signerCount"]) == (1, 0)
    batch = batches.batch([batches.record(alice)], brand_id=OTHER_BRAND)
    with brownie.reverts(revert_pattern=error("UnknownSigner", OTHER_BRAND, signer_addresses[0])):
        batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[0]]))
    with brownie.reverts(revert_pattern=error("QuorumNotReached", 0, 1)):
        batches.submit(batch, signatures=[])


def test_a_brand_holds_at_most_255_signers(registry, admin):
    """The count lives in 8 bits of the Brand slot: the 256th signer is refused, not wrapped."""
    assert registry.MAX_SIGNERS_PER_BRAND() == 255
    registry.registerBrand(OTHER_BRAND, 1_000 * COIN, {"from": admin})
    for i in range(1, 256):
        registry.addSigner(OTHER_BRAND, "0x" + i.to_bytes(20, "big").hex(), {"from": admin})
    assert signer_count(registry, OTHER_BRAND) == 255
    with brownie.reverts(revert_pattern=error("SignerLimitReached", OTHER_BRAND, 255)):
        registry.addSigner(OTHER_BRAND, "0x" + (256).to_bytes(20, "big").hex(), {"from": admin})
    registry.setQuorum(OTHER_BRAND, 255, {"from": admin})
    assert registry.brandOf(OTHER_BRAND)["quorum"] == 255
