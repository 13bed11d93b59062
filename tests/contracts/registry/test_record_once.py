"""Each (brand, seq) is rewarded at most once, however often or however a batch is retried."""

import pytest
from eth_utils import keccak

from tests.contracts.batch_outcomes import outcomes, registry_logs, rewarded, skipped, submitted_batch

from .helpers import ALREADY_RECORDED, BRAND, COIN, WELCOME


def test_resubmitting_a_batch_mints_nothing_and_reports_every_record_as_already_recorded(
    batches, registry, coin, alice, bob
):
    batch = batches.batch([batches.record(alice), batches.record(bob)])
    batches.submit(batch)
    supply = coin.totalSupply()
    tx = batches.submit(batch)
    assert coin.totalSupply() == supply
    assert "Transfer" not in tx.events
    assert len(registry_logs(tx, registry)) == 1  # BatchRecorded only
    assert tx.events["BatchRecorded"]["brandId"] == BRAND
    assert submitted_batch(registry, tx.input) == batch
    assert outcomes(tx) == [skipped(ALREADY_RECORDED)] * len(batch.records)
    assert tx.events["BatchRecorded"]["recorded"] == 0
    assert tx.events["BatchRecorded"]["skipped"] == 2
    assert tx.events["BatchRecorded"]["minted"] == 0
    assert tx.return_value == 0


def test_same_seq_with_another_event_and_customer_is_already_recorded(batches, registry, coin, alice, bob):
    batches.submit(batches.batch([batches.record(alice, seq=42)]))
    replay = batches.record(bob, seq=42, event_id=keccak(text="a different event"))
    tx = batches.submit(batches.batch([replay]))
    assert outcomes(tx) == [skipped(ALREADY_RECORDED)]
    assert coin.balanceOf(bob) == 0
    assert registry.accountOf(bob) == (0, 0, 0, False)


def test_duplicate_seq_inside_one_batch_rewards_once(batches, registry, coin, alice):
    record = batches.record(alice, seq=7)
    tx = batches.submit(batches.batch([record, record]))
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME), skipped(ALREADY_RECORDED)]  # seq 7, then seq 7 again
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert coin.balanceOf(alice) == 5 * COIN + WELCOME
    assert registry.lifetimeEarned(alice) == 5 * COIN


def test_is_recorded_marks_only_the_recorded_seq(batches, registry, alice):
    assert not registry.isRecorded(BRAND, 10)
    batches.submit(batches.batch([batches.record(alice, seq=10)]))
    assert registry.isRecorded(BRAND, 10)
    assert [registry.isRecorded(BRAND, s) for s in (9, 11, 10 + 256)] == [False, False, False]
    assert not registry.isRecorded(2, 10)  # the key is (brand, seq)


SCATTERED = [1, 300, 2, 70000, 256, 255, 0, 69999, 301]


def test_unsorted_seqs_over_several_bitmap_words_are_all_recorded_once(batches, registry, coin, alice):
    tx = batches.submit(batches.batch([batches.record(alice, seq=s) for s in SCATTERED]))
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME)] + [rewarded(5 * COIN)] * (len(SCATTERED) - 1)
    assert all(registry.isRecorded(BRAND, s) for s in SCATTERED)
    assert [registry.isRecorded(BRAND, s) for s in (3, 257, 299, 302, 70001, 512)] == [False] * 6
    retry = [batches.record(alice, seq=s, event_id=keccak(text=f"retry-{s}")) for s in reversed(SCATTERED)]
    tx = batches.submit(batches.batch(retry))
    assert outcomes(tx) == [skipped(ALREADY_RECORDED)] * len(SCATTERED)
    assert tx.events["BatchRecorded"]["minted"] == 0
    assert coin.balanceOf(alice) == len(SCATTERED) * 5 * COIN + WELCOME


def test_a_seq_revisited_after_another_word_inside_one_batch_rewards_once(batches, coin, alice):
    seqs = [5, 600, 5, 600, 6]
    tx = batches.submit(batches.batch([batches.record(alice, seq=s) for s in seqs]))
    assert outcomes(tx) == [  # 5, 600, 5, 600, 6
        rewarded(5 * COIN, WELCOME),
        rewarded(5 * COIN),
        skipped(ALREADY_RECORDED),
        skipped(ALREADY_RECORDED),
        rewarded(5 * COIN),
    ]
    assert coin.balanceOf(alice) == 3 * 5 * COIN + WELCOME


@pytest.mark.parametrize("seq", [0, 255, 256, 2**64 - 1])
def test_boundary_seqs_are_recorded(batches, registry, alice, seq):
    batches.submit(batches.batch([batches.record(alice, seq=seq)]))
    assert registry.isRecorded(BRAND, seq)
    assert not registry.isRecorded(BRAND, seq ^ 1)


def test_the_same_seq_in_another_brand_is_a_different_record(batches, registry, admin, coin, alice, signer_addresses):
    registry.registerBrand(2, 1000 * COIN, {"from": admin})
    registry.addSigner(2, signer_addresses[0], {"from": admin})
    batches.submit(batches.batch([batches.record(alice, seq=3)]))
    tx = batches.submit(batches.batch([batches.record(alice, seq=3)], brand_id=2))
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert outcomes(tx) == [rewarded(5 * COIN)]
    assert registry.isRecorded(2, 3)
    assert coin.balanceOf(alice) == 2 * 5 * COIN + WELCOME


def test_record_once_is_keyed_by_seq_so_one_event_id_under_two_seqs_is_rewarded_twice(
    batches, registry, coin, alice
):
    """Documents the trust boundary: the contract dedupes (brand, seq), never eventId; the oracle
    must give each helpdesk event one stable seq (a quorum that signs a second seq is trusted)."""
    event_id = keccak(text="brand-1/zendesk/event-same")
    for seq in (1, 2):
        tx = batches.submit(batches.batch([batches.record(alice, seq=seq, event_id=event_id)]))
        assert [r.event_id for r in submitted_batch(registry, tx.input).records] == [event_id]
        assert outcomes(tx) == [rewarded(5 * COIN, WELCOME if seq == 1 else 0)]
    assert coin.balanceOf(alice) == 2 * 5 * COIN + WELCOME
