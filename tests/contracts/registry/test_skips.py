"""A record the batch cannot reward is skipped with its reason; the rest of the batch is rewarded,
and a skipped record stays unrecorded so that a corrected batch can record it later."""

import pytest

from oracle.kinds import FeedbackKind
from tests.contracts.batch_outcomes import outcomes, rewarded, skipped

from .helpers import (
    BRAND,
    COIN,
    KIND_NOT_REWARDED,
    OCCURS_IN_FUTURE,
    UNREWARDED_KIND,
    WELCOME,
    ZERO_CUSTOMER,
    mined_at,
    submit_unmined,
)

ZERO = "0x" + "00" * 20

# name: (how to build the bad record for customer `who`, the reason it is skipped)
BAD_RECORDS = {
    "kind_without_base_reward": (
        lambda batches, who, chain: batches.record(who, kind=UNREWARDED_KIND),
        KIND_NOT_REWARDED,
    ),
    "zero_customer": (lambda batches, who, chain: batches.record(ZERO), ZERO_CUSTOMER),
    "occurs_in_future": (
        lambda batches, who, chain: batches.record(who, occurred_at=chain.time() + 3600),
        OCCURS_IN_FUTURE,
    ),
}


@pytest.mark.parametrize("bad", BAD_RECORDS)
def test_bad_record_is_skipped_with_its_reason_and_the_rest_are_rewarded(
    batches, registry, coin, alice, bob, carol, chain, bad
):
    make_bad, reason = BAD_RECORDS[bad]
    wrong = make_bad(batches, carol, chain)
    records = [batches.record(alice), wrong, batches.record(bob)]
    tx = batches.submit(batches.batch(records))
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME), skipped(reason), rewarded(5 * COIN, WELCOME)]
    assert tx.events["BatchRecorded"]["recorded"] == 2
    assert tx.events["BatchRecorded"]["skipped"] == 1
    assert tx.events["BatchRecorded"]["minted"] == 2 * (5 * COIN + WELCOME)
    assert (coin.balanceOf(alice), coin.balanceOf(bob), coin.balanceOf(carol)) == (10 * COIN, 10 * COIN, 0)
    assert registry.accountOf(carol) == (0, 0, 0, False)
    assert not registry.isRecorded(BRAND, wrong.seq)


@pytest.mark.parametrize("bad", BAD_RECORDS)
def test_skipped_seq_can_be_recorded_later_in_a_corrected_batch(batches, registry, coin, carol, chain, bad):
    make_bad, _ = BAD_RECORDS[bad]
    wrong = make_bad(batches, carol, chain)
    batches.submit(batches.batch([wrong]))
    fixed = batches.record(carol, seq=wrong.seq, event_id=wrong.event_id)
    tx = batches.submit(batches.batch([fixed]))
    assert fixed.seq == wrong.seq
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME)]
    assert registry.isRecorded(BRAND, wrong.seq)
    assert coin.balanceOf(carol) == 5 * COIN + WELCOME


def test_batch_of_only_skipped_records_is_accepted_and_mints_nothing(batches, coin, alice):
    tx = batches.submit(batches.batch([batches.record(alice, kind=UNREWARDED_KIND), batches.record(ZERO)]))
    assert outcomes(tx) == [skipped(KIND_NOT_REWARDED), skipped(ZERO_CUSTOMER)]
    assert tx.events["BatchRecorded"]["recorded"] == 0
    assert tx.events["BatchRecorded"]["skipped"] == 2
    assert "Transfer" not in tx.events
    assert coin.totalSupply() == 0


def test_kind_whose_base_reward_is_set_to_zero_stops_being_rewarded(batches, registry, admin, alice):
    tx = registry.setBaseReward(FeedbackKind.REFERRAL, 0, {"from": admin})
    assert tx.events["BaseRewardChanged"] == {"kind": FeedbackKind.REFERRAL, "oldReward": 25 * COIN, "newReward": 0}
    tx = batches.reward([alice], FeedbackKind.REFERRAL)
    assert outcomes(tx) == [skipped(KIND_NOT_REWARDED)]


def test_event_occurring_exactly_at_the_block_timestamp_is_rewarded(batches, registry, alice, bob, chain):
    now = chain.time() + 120
    batch = batches.batch([batches.record(alice, occurred_at=now), batches.record(bob, occurred_at=now + 1)])
    with mined_at(now):
        tx = submit_unmined(registry, batches, batch)
    tx.wait(1)
    assert tx.timestamp == now
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME), skipped(OCCURS_IN_FUTURE)]  # alice at now, bob at now + 1
