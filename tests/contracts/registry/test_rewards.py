"""The reward is the public base reward of the kind times the customer's tier multiplier, never
chosen by the oracle; the welcome bonus comes once, with a customer's first reward."""

import pytest
from eth_utils import keccak

from oracle.kinds import FeedbackKind
from oracle.typed_data import batch_digest
from tests.contracts.batch_outcomes import outcomes, rewarded, rewards, submitted_batch, welcomes

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
    batch = batches.batch([batches.record(alice, kind) for kind in SCHEDULE])
    tx = batches.submit(batch)  # 53 in all: still 1x
    # The outcomes follow the records (one kind each, in SCHEDULE's order); the first carries the welcome.
    assert [r.kind for r in batch.records] == list(SCHEDULE)
    assert outcomes(tx) == [rewarded(reward, WELCOME if i == 0 else 0) for i, reward in enumerate(SCHEDULE.values())]


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
    assert outcomes(tx) == [rewarded(expected)]


@pytest.mark.parametrize("tier", range(1, 4), ids=["silver", "gold", "platinum"])
def test_one_wei_below_a_threshold_keeps_the_lower_tier(registry, lift, alice, tier):
    lift(alice, TIER_THRESHOLDS[tier] - 1)
    expected = SCHEDULE[FeedbackKind.PRODUCT_REVIEW] * TIER_MULTIPLIERS_BPS[tier - 1] // BPS
    assert registry.rewardFor(alice, FeedbackKind.PRODUCT_REVIEW) == expected


def test_crossing_a_threshold_inside_a_batch_raises_the_following_rewards(batches, registry, alice):
    tx = batches.reward([alice] * 5, FeedbackKind.REFERRAL)
    assert rewards(tx) == [25 * COIN] * 4 + [27_500 * 10**15]  # 100 reached: silver, 1.1x
    assert rewards(tx) == expected_rewards(25 * COIN, 5)
    assert [o.rewarded for o in outcomes(tx)] == [True] * 5
    assert registry.rewardFor(alice, FeedbackKind.REFERRAL) == 27_500 * 10**15


def test_reward_rounds_down(batches, registry, admin, lift, alice):
    lift(alice, TIER_THRESHOLDS[1])
    registry.setBaseReward(FeedbackKind.CSAT_RATING, 9, {"from": admin})  # 9 wei x 1.1 = 9.9
    tx = batches.reward([alice], FeedbackKind.CSAT_RATING)
    assert outcomes(tx) == [rewarded(9)]


def test_welcome_bonus_is_granted_with_the_first_reward_only(batches, registry, coin, alice):
    first = batches.reward([alice, alice])
    assert first.events["BatchRecorded"]["brandId"] == BRAND
    assert outcomes(first) == [rewarded(5 * COIN, WELCOME), rewarded(5 * COIN)]  # with alice's first record
    second = batches.reward([alice])
    assert outcomes(second) == [rewarded(5 * COIN)]
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
    tx = batches.reward([alice])
    assert outcomes(tx) == [rewarded(5 * COIN, 7 * COIN)]
    assert coin.balanceOf(alice) == 5 * COIN + 7 * COIN


def test_a_first_reward_while_the_bonus_is_zero_uses_up_the_welcome(batches, registry, admin, coin, alice):
    registry.setWelcomeBonus(0, {"from": admin})
    first = batches.reward([alice])
    assert outcomes(first) == [rewarded(5 * COIN)]
    assert registry.accountOf(alice)["welcomed"]
    registry.setWelcomeBonus(7 * COIN, {"from": admin})
    later = batches.reward([alice])
    assert outcomes(later) == [rewarded(5 * COIN)]
    assert welcomes(first) == welcomes(later) == []
    assert coin.balanceOf(alice) == 2 * 5 * COIN


def test_a_rewarded_record_is_proved_by_the_signed_input_and_its_outcome(batches, registry, domain, coin, alice):
    """Every record field is in the transaction's input (signed: the log's digest), and the
    log gives its reward at its position."""
    record = batches.record(
        alice, FeedbackKind.VALID_QUESTION, seq=77, occurred_at=1_700_000_000, event_id=keccak(text="evt-77")
    )
    batch = batches.batch([record])
    tx = batches.submit(batch)
    (submitted,) = submitted_batch(registry, tx.input).records
    assert submitted.customer == alice
    assert submitted.event_id == keccak(text="evt-77")
    assert submitted.seq == 77
    assert submitted.kind == FeedbackKind.VALID_QUESTION
    assert submitted.occurred_at == 1_700_000_000
    assert submitted.content_commitment == record.content_commitment
    summary = tx.events["BatchRecorded"]
    assert summary["brandId"] == BRAND
    assert bytes(summary["digest"]) == batch_digest(domain, batch)
    assert outcomes(tx) == [rewarded(3 * COIN, WELCOME)]
    assert coin.balanceOf(alice) == 3 * COIN + WELCOME


def test_minted_coins_equal_the_rewards_and_welcome_bonuses_of_the_events(batches, coin, alice, bob, carol):
    tx = batches.reward([alice, bob, alice, carol], FeedbackKind.COMMUNITY_ANSWER)
    assert outcomes(tx) == [
        rewarded(8 * COIN, WELCOME),
        rewarded(8 * COIN, WELCOME),
        rewarded(8 * COIN),
        rewarded(8 * COIN, WELCOME),
    ]
    assert sum(rewards(tx)) + sum(welcomes(tx)) == tx.events["BatchRecorded"]["minted"] == coin.totalSupply()
    assert coin.totalSupply() == 4 * 8 * COIN + 3 * WELCOME
