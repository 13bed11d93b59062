"""k of n: a batch needs its brand's `quorum` distinct signers of that brand, given in ascending address order."""

import brownie
import pytest

from .helpers import BRAND, error, high_s_twin, recover


@pytest.fixture
def batch(batches, alice):
    return batches.batch([batches.record(alice)])


@pytest.fixture
def ordered(batches, batch, signer_keys, registry, quorum_of_two):
    """The three signers' signatures over `batch`, ascending by signer address, and those addresses."""
    signatures = batches.sign(batch, keys=signer_keys)
    digest = bytes(registry.batchDigest(batch.as_tuple()))
    return signatures, [recover(digest, s) for s in signatures]


def test_one_signature_does_not_reach_a_quorum_of_two(batches, batch, ordered, registry):
    signatures, _ = ordered
    with brownie.reverts(revert_pattern=error("QuorumNotReached", 1, 2)):
        batches.submit(batch, signatures=signatures[:1])
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_two_distinct_signers_in_ascending_order_are_accepted(batches, batch, ordered, registry):
    signatures, addresses = ordered
    assert addresses == sorted(addresses, key=lambda a: int(a, 16))
    tx = batches.submit(batch, signatures=signatures[1:])
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert registry.isRecorded(BRAND, batch.records[0].seq)


def test_more_signatures_than_the_quorum_are_accepted_when_all_valid(batches, batch, ordered):
    signatures, _ = ordered
    tx = batches.submit(batch, signatures=signatures)
    assert tx.events["BatchRecorded"]["recorded"] == 1


def test_an_unknown_signer_padding_a_quorum_is_refused(batches, batch, ordered, stranger):
    signatures, addresses = ordered
    by_address = dict(zip(addresses, signatures))
    by_address[stranger.address] = batches.sign(batch, keys=[stranger.key])[0]
    padded = [by_address[a] for a in sorted(by_address, key=lambda a: int(a, 16))]
    with brownie.reverts(revert_pattern=error("UnknownSigner", BRAND, stranger.address)):
        batches.submit(batch, signatures=padded)


def test_the_same_signature_twice_is_not_ascending(batches, batch, ordered):
    signatures, addresses = ordered
    with brownie.reverts(revert_pattern=error("SignersNotAscending", addresses[0], addresses[0])):
        batches.submit(batch, signatures=[signatures[0], signatures[0]])


@pytest.mark.parametrize("twin_first", [False, True], ids=["signature_then_twin", "twin_then_signature"])
def test_the_same_signer_through_its_malleable_twin_is_refused(batches, batch, ordered, twin_first):
    signatures, _ = ordered
    twin = high_s_twin(signatures[0])
    pair = [twin, signatures[0]] if twin_first else [signatures[0], twin]
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignatureS", twin[32:64])):
        batches.submit(batch, signatures=pair)


def test_descending_signer_order_is_refused(batches, batch, ordered):
    signatures, addresses = ordered
    with brownie.reverts(revert_pattern=error("SignersNotAscending", addresses[2], addresses[1])):
        batches.submit(batch, signatures=[signatures[2], signatures[1]])


def test_set_quorum_changes_the_quorum_and_emits(registry, admin, quorum_of_two):
    tx = registry.setQuorum(BRAND, 3, {"from": admin})
    assert registry.brandOf(BRAND)["quorum"] == 3
    assert tx.events["QuorumChanged"] == {"brandId": BRAND, "oldQuorum": 2, "newQuorum": 3}


@pytest.mark.parametrize("quorum", [0, 4])
def test_quorum_of_zero_or_above_the_signer_count_is_invalid(registry, admin, quorum_of_two, quorum):
    with brownie.reverts(revert_pattern=error("InvalidQuorum", quorum, 3)):
        registry.setQuorum(BRAND, quorum, {"from": admin})
    assert registry.brandOf(BRAND)["quorum"] == 2


def test_removing_a_signer_below_the_quorum_is_invalid(registry, admin, signer_addresses, quorum_of_two):
    registry.removeSigner(BRAND, signer_addresses[2], {"from": admin})
    with brownie.reverts(revert_pattern=error("InvalidQuorum", 2, 1)):
        registry.removeSigner(BRAND, signer_addresses[1], {"from": admin})
    assert registry.isSigner(BRAND, signer_addresses[1])
    assert registry.brandOf(BRAND)["signerCount"] == 2


def test_each_brand_has_its_own_quorum(batches, registry, admin, signer_keys, signer_addresses, quorum_of_two, alice):
    """Brand 1 needs two of its signers; brand 2, registered with one signer, needs one."""
    registry.registerBrand(2, 10**21, {"from": admin})
    registry.addSigner(2, signer_addresses[0], {"from": admin})
    assert (registry.brandOf(BRAND)["quorum"], registry.brandOf(2)["quorum"]) == (2, 1)
    batch = batches.batch([batches.record(alice)], brand_id=2)
    tx = batches.submit(batch, signatures=batches.sign(batch, keys=[signer_keys[0]]))
    assert tx.events["BatchRecorded"]["recorded"] == 1
    with brownie.reverts(revert_pattern=error("InvalidQuorum", 2, 1)):
        registry.setQuorum(2, 2, {"from": admin})
