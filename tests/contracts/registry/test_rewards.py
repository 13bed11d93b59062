"""The reward is the public base reward of the kind times the customer's tier multiplier, never
chosen by the oracle; the welcome bonus comes once, with a customer's first reward."""

import pytest
from eth_utils import keccak

from oracle.kinds import FeedbackKind

from .helpers import (
    BPS,
    BRAND,
    COIN,
    TIER_MULTIPLIERS_BPS,
    TIER_THRESHOLDS,
    UINT96_MAX,
    WELCOME,
    expected_rewards,
)

# scripts/config/development.yaml base_rewards, in units.
SCHEDULE = {
    FeedbackKind.CSAT_RATING: 2 * COIN,
    FeedbackKind.SURVEY_RESPONSE: 5 * COIN,
    FeedbackKind.PRODUCT_REVIEW: 10 * COIN,
    FeedbackKind.VALID_QUESTION: 3 * COIN,
    FeedbackKind.REFERRAL: 25 * COIN,
    FeedbackKind.COMMUNITY_ANSWER: 8 * COIN,
}
# A kind the schedule leaves free, given a base reward to push a customer's lifetime anywhere.
LIFT_KIND = 6


def test_base_rewards_are_the_public_schedule(registry):
    assert {kind: registry.baseReward(kind) for kind in SCHEDULE} == SCHEDULE
    assert registry.baseReward(LIFT_KIND) == 0


def test_a_new_customer_earns_the_base_reward_of_each_kind(batches, registry, alice):
    assert {kind: registry.rewardFor(alice, kind) for kind in SCHEDULE} == SCHEDULE
    tx = batches.submit(batches.batch([batches.record(alice, kind) for kind in SCHEDULE]))  # 53 in all: still 1x
    assert [(e["kind"], e["reward"]) for e in tx.events["FeedbackRecorded"]] == list(SCHEDULE.items())


@pytest.fixture
def lift(batches, registry, admin):
    """Gives a customer exactly `lifetime` earned with one record of LIFT_KIND (bronze: 1x)."""
    registry.setCustomerCap(2**24 - 1, {"from": admin})

    def _lift(customer, lifetime):
        registry.setBaseReward(LIFT_KIND, lifetime, {"from": admin})
        batches.reward([customer], LIFT_KIND)
        assert registry.lifetimeEarned(customer) == lifetime

    return _lift


@pytest.mark.parametrize("tier", range(1, 4), ids=["silver", "gold", "platinum"])
def test_reward_follows_the_tier_reached_by_lifetime_earned(batches, registry, lift, alice, tier):
    lift(alice, TIER_THRESHOLDS[tier])
    expected = SCHEDULE[FeedbackKind.PRODUCT_REVIEW] * TIER_MULTIPLIERS_BPS[tier] // BPS
    assert registry.rewardFor(alice, FeedbackKind.PRODUCT_REVIEW) == expected
    tx = batches.reward([alice], FeedbackKind.PRODUCT_REVIEW)
    assert tx.events["FeedbackRecorded"]["reward"] == expected


@pytest.mark.parametrize("tier", range(1, 4), ids=["silver", "gold", "platinum"])
def test_one_wei_below_a_threshold_keeps_the_lower_tier(registry, lift, alice, tier):
    lift(alice, TIER_THRESHOLDS[tier] - 1)
    expected = SCHEDULE[FeedbackKind.PRODUCT_REVIEW] * TIER_MULTIPLIERS_BPS[tier - 1] // BPS
    assert registry.rewardFor(alice, FeedbackKind.PRODUCT_REVIEW) == expected


def test_crossing_a_threshold_inside_a_batch_raises_the_following_rewards(batches, registry, alice):
    tx = batches.reward([alice] * 5, FeedbackKind.REFERRAL)
    rewards = [e["reward"] for e in tx.events["FeedbackRecorded"]]
    assert rewards == [25 * COIN] * 4 + [27_500 * 10**15]  # 100 reached: silver, 1.1x
    assert rewards == expected_rewards(25 * COIN, 5)
    assert registry.rewardFor(alice, FeedbackKind.REFERRAL) == 27_500 * 10**15


def test_reward_rounds_down(batches, registry, admin, lift, alice):
    lift(alice, TIER_THRESHOLDS[1])
    registry.setBaseReward(FeedbackKind.CSAT_RATING, 9, {"from": admin})  # 9 wei x 1.1 = 9.9
    tx = batches.reward([alice], FeedbackKind.CSAT_RATING)
    assert tx.events["FeedbackRecorded"]["reward"] == 9


def test_welcome_bonus_is_granted_with_the_first_reward_only(batches, registry, coin, alice):
    first = batches.reward([alice, alice])
    assert len(first.events["WelcomeGranted"]) == 1
    assert first.events["WelcomeGranted"][0] == {"customer": alice, "brandId": BRAND, "amount": WELCOME}
    second = batches.reward([alice])
    assert "WelcomeGranted" not in second.events
    assert coin.balanceOf(alice) == 3 * 5 * COIN + WELCOME
    assert registry.accountOf(alice)["welcomed"]


def test_lifetime_earned_excludes_the_welcome_bonus(batches, registry, coin, alice):
    batches.reward([alice], FeedbackKind.PRODUCT_REVIEW)
    assert coin.balanceOf(alice) == 10 * COIN + WELCOME
    assert registry.lifetimeEarned(alice) == 10 * COIN
    assert registry.accountOf(alice)["lifetimeEarned"] == 10 * COIN


def test_set_welcome_bonus_changes_the_bonus_and_emits(batches, registry, admin, coin, alice):
    tx = registry.setWelcomeBonus(7 * COIN, {"from": admin})
    assert tx.events["WelcomeBonusChanged"] == {"oldBonus": WELCOME, "newBonus": 7 * COIN}
    assert batches.reward([alice]).events["WelcomeGranted"]["amount"] == 7 * COIN


def test_a_first_reward_while_the_bonus_is_zero_uses_up_the_welcome(batches, registry, admin, coin, alice):
    registry.setWelcomeBonus(0, {"from": admin})
    first = batches.reward([alice])
    assert "WelcomeGranted" not in first.events
    assert registry.accountOf(alice)["welcomed"]
    registry.setWelcomeBonus(7 * COIN, {"from": admin})
    later = batches.reward([alice])
    assert "WelcomeGranted" not in later.events
    assert coin.balanceOf(alice) == 2 * later.events["FeedbackRecorded"]["reward"]


def test_feedback_recorded_carries_every_record_field(batches, alice):
    record = batches.record(
        alice, FeedbackKind.VALID_QUESTION, seq=77, occurred_at=1_700_000_000, event_id=keccak(text="evt-77")
    )
    tx = batches.submit(batches.batch([record]))
    event = tx.events["FeedbackRecorded"]
    assert event["customer"] == alice
    assert event["brandId"] == BRAND
    assert bytes(event["eventId"]) == keccak(text="evt-77")
    assert event["seq"] == 77
    assert event["kind"] == FeedbackKind.VALID_QUESTION
    assert event["occurredAt"] == 1_700_000_000
    assert bytes(event["contentCommitment"]) == record.content_commitment
    assert event["reward"] == 3 * COIN


def test_minted_coins_equal_the_rewards_and_welcome_bonuses_of_the_events(batches, coin, alice, bob, carol):
    tx = batches.reward([alice, bob, alice, carol], FeedbackKind.COMMUNITY_ANSWER)
    rewards = sum(e["reward"] for e in tx.events["FeedbackRecorded"])
    welcomes = sum(e["amount"] for e in tx.events["WelcomeGranted"])
    assert rewards + welcomes == tx.events["BatchRecorded"]["minted"] == coin.totalSupply()
    assert coin.totalSupply() == 4 * 8 * COIN + 3 * WELCOME
