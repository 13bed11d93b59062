"""setTiers, tierSchedule and tierOf: tiers follow lifetime earned, never balance."""

import brownie
import pytest

from oracle.kinds import FeedbackKind
from tests.contracts.batch_outcomes import outcomes, rewarded

from .helpers import COIN, DISCOUNT, LIFETIME_EACH, error

DEV_THRESHOLDS = [0, 100 * COIN, 500 * COIN, 2000 * COIN]
DEV_MULTIPLIERS = [10_000, 11_000, 12_500, 15_000]


def test_deployment_sets_the_development_schedule(redemption):
    assert redemption.tierSchedule() == (DEV_THRESHOLDS, DEV_MULTIPLIERS)


def test_set_tiers_stores_the_schedule(redemption, admin):
    redemption.setTiers([0, 10 * COIN, 20 * COIN], [10_000, 20_000, 100_000], {"from": admin})
    assert redemption.tierSchedule() == ([0, 10 * COIN, 20 * COIN], [10_000, 20_000, 100_000])


def test_set_tiers_emits_tiers_changed(redemption, admin):
    tx = redemption.setTiers([0, 10 * COIN], [10_000, 15_000], {"from": admin})
    assert tx.events["TiersChanged"]["thresholds"] == [0, 10 * COIN]
    assert tx.events["TiersChanged"]["multipliersBps"] == [10_000, 15_000]


def test_set_tiers_accepts_the_maximum_of_sixteen_tiers(redemption, admin):
    thresholds = [i * COIN for i in range(16)]
    redemption.setTiers(thresholds, [10_000] * 16, {"from": admin})
    assert redemption.tierSchedule() == (thresholds, [10_000] * 16)


def test_set_tiers_only_admin(redemption, cataloguer, alice):
    role = redemption.DEFAULT_ADMIN_ROLE()
    for caller in (cataloguer, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.setTiers([0], [10_000], {"from": caller})
    assert redemption.tierSchedule() == (DEV_THRESHOLDS, DEV_MULTIPLIERS)


@pytest.mark.parametrize(
    "thresholds, multipliers, index",
    [
        pytest.param([], [], 0, id="empty"),
        pytest.param(list(range(17)), [10_000] * 17, 17, id="more-than-sixteen"),
        pytest.param([1, 2], [10_000, 10_000], 0, id="first-threshold-not-zero"),
        pytest.param([0, 5, 5], [10_000] * 3, 2, id="thresholds-equal"),
        pytest.param([0, 5, 4], [10_000] * 3, 2, id="thresholds-descending"),
        pytest.param([0, 2**96], [10_000, 20_000], 1, id="threshold-beyond-uint96-lifetime"),
        pytest.param([0, 5], [10_000, 0], 1, id="multiplier-zero"),
        pytest.param([0, 5], [100_001, 10_000], 0, id="multiplier-above-max"),
        pytest.param([0, 5], [10_000], 2, id="fewer-multipliers"),
        pytest.param([0], [10_000, 10_000], 1, id="more-multipliers"),
    ],
)
def test_set_tiers_rejects_invalid_schedule(redemption, admin, thresholds, multipliers, index):
    with brownie.reverts(revert_pattern=error("InvalidTierSchedule", index)):
        redemption.setTiers(thresholds, multipliers, {"from": admin})
    assert redemption.tierSchedule() == (DEV_THRESHOLDS, DEV_MULTIPLIERS)


def test_set_tiers_accepts_the_highest_reachable_threshold(redemption, admin):
    # Lifetime earnings are uint96 in the registry: 2^96 - 1 is the last threshold a customer can reach.
    redemption.setTiers([0, 2**96 - 1], [10_000, 20_000], {"from": admin})
    assert redemption.tierSchedule() == ([0, 2**96 - 1], [10_000, 20_000])


def test_a_shorter_schedule_replaces_a_longer_one_whole(redemption, admin):
    redemption.setTiers([0, 1, 2, 3], [10_000, 11_000, 12_000, 13_000], {"from": admin})
    redemption.setTiers([0, 7], [10_000, 15_000], {"from": admin})
    assert redemption.tierSchedule() == ([0, 7], [10_000, 15_000])


@pytest.mark.parametrize("count", [1, 2, 3, 16])
def test_every_tier_reads_back_exactly_from_either_half_of_its_slot(redemption, admin, count):
    # Two tiers share one storage slot (128 bits each): both fields at their extremes, in the
    # low and the high half, then a shorter odd-length schedule over the longer one.
    top = redemption.MAX_MULTIPLIER_BPS()
    thresholds = [0] + [2**96 - count + i for i in range(1, count)]
    multipliers = [top if i % 2 == 0 else 1 for i in range(count)]
    redemption.setTiers(thresholds, multipliers, {"from": admin})
    assert redemption.tierSchedule() == (thresholds, multipliers)
    redemption.setTiers([0, 5, 9], [1, top, 2], {"from": admin})
    assert redemption.tierSchedule() == ([0, 5, 9], [1, top, 2])


def test_set_tiers_accepts_multiplier_at_max(redemption, admin):
    top = redemption.MAX_MULTIPLIER_BPS()
    assert top == 100_000
    redemption.setTiers([0, 1], [1, top], {"from": admin})
    assert redemption.tierSchedule() == ([0, 1], [1, top])


def test_customer_with_nothing_earned_is_tier_zero(redemption, carol):
    assert redemption.tierOf(carol) == 0


def test_tier_of_follows_lifetime_earned(redemption, registry, earn, carol):
    earn([carol], count=9)  # 9 reviews of 10 coins: lifetime 90, below Silver (100)
    assert registry.lifetimeEarned(carol) == 90 * COIN
    assert redemption.tierOf(carol) == 0
    earn([carol], count=1)  # lifetime 100: exactly the Silver threshold
    assert registry.lifetimeEarned(carol) == 100 * COIN
    assert redemption.tierOf(carol) == 1


def test_tier_of_uses_the_highest_threshold_reached(redemption, admin, alice):
    redemption.setTiers([0, 20 * COIN, LIFETIME_EACH, LIFETIME_EACH + 1], [10_000] * 4, {"from": admin})
    assert redemption.tierOf(alice) == 2


def test_welcome_bonus_does_not_count_towards_tier(redemption, registry, coin, admin, earn, carol):
    earn([carol], count=1)  # 10 coins earned + 5 coins welcome bonus
    redemption.setTiers([0, 15 * COIN], [10_000, 10_000], {"from": admin})
    assert coin.balanceOf(carol) == 15 * COIN
    assert registry.lifetimeEarned(carol) == 10 * COIN
    assert redemption.tierOf(carol) == 0


def test_tier_does_not_drop_after_redeeming(redemption, coin, admin, alice):
    redemption.setTiers([0, 50 * COIN], [10_000, 11_000], {"from": admin})
    assert redemption.tierOf(alice) == 1
    redemption.redeem(DISCOUNT, 50 * COIN, {"from": alice})  # balance 85 -> 35, lifetime stays 80
    assert coin.balanceOf(alice) == 35 * COIN
    assert redemption.tierOf(alice) == 1


def test_tier_reached_by_a_raised_base_reward(redemption, registry, admin, earn, carol):
    registry.setBaseReward(int(FeedbackKind.REFERRAL), 200 * COIN, {"from": admin})
    earn([carol], count=1, kind=FeedbackKind.REFERRAL)  # 200 coins: the whole daily cap
    assert registry.lifetimeEarned(carol) == 200 * COIN
    assert redemption.tierOf(carol) == 1


def test_lowered_thresholds_apply_to_earnings_already_made(redemption, admin, alice):
    assert redemption.tierOf(alice) == 0
    redemption.setTiers([0, 50 * COIN, LIFETIME_EACH], [10_000, 11_000, 12_000], {"from": admin})
    assert redemption.tierOf(alice) == 2


def test_registry_multiplies_rewards_by_the_new_schedule(redemption, registry, admin, earn, alice):
    redemption.setTiers([0, 50 * COIN], [10_000, 20_000], {"from": admin})
    tx = earn([alice], count=1)  # tier 1 now: 10 coins * 2x
    assert outcomes(tx) == [rewarded(20 * COIN)]  # alice was welcomed by the fixture's batch
    assert registry.lifetimeEarned(alice) == LIFETIME_EACH + 20 * COIN
