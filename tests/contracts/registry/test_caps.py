"""Per-customer and per-brand caps per period: a record that would pass a cap is skipped whole."""

import brownie
import pytest
from eth_utils import to_checksum_address

from oracle.kinds import FeedbackKind
from tests.contracts.batch_outcomes import outcomes, rewarded, skipped

from .helpers import (
    BRAND,
    BRAND_CAP_REACHED,
    COIN,
    CUSTOMER_CAP,
    CUSTOMER_CAP_REACHED,
    LIFETIME_LIMIT_REACHED,
    SUPPLY_LIMIT_REACHED,
    PERIOD,
    UINT24_MAX,
    UINT96_MAX,
    WELCOME,
    error,
)


def _next_period(chain):
    chain.sleep(PERIOD)
    chain.mine()


def test_record_passing_the_customer_cap_is_skipped_without_partial_state(batches, registry, admin, coin, alice):
    registry.setCustomerCap(2, {"from": admin})
    records = [batches.record(alice) for _ in range(3)]
    tx = batches.submit(batches.batch(records))
    assert tx.events["BatchRecorded"]["recorded"] == 2
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME), rewarded(5 * COIN), skipped(CUSTOMER_CAP_REACHED)]
    account = registry.accountOf(alice)
    assert (account["lifetimeEarned"], account["rewardsInPeriod"]) == (10 * COIN, 2)
    assert coin.balanceOf(alice) == 10 * COIN + WELCOME
    assert registry.brandOf(BRAND)["issuedInPeriod"] == 10 * COIN + WELCOME
    assert not registry.isRecorded(BRAND, records[2].seq)


def test_reaching_the_customer_cap_exactly_is_allowed(batches, registry, admin, alice):
    registry.setCustomerCap(2, {"from": admin})
    tx = batches.reward([alice, alice])
    assert tx.events["BatchRecorded"]["recorded"] == 2
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME), rewarded(5 * COIN)]
    assert registry.accountOf(alice)["rewardsInPeriod"] == 2


def test_a_customer_cap_of_zero_rewards_nobody(batches, registry, admin, coin, alice):
    registry.setCustomerCap(0, {"from": admin})
    tx = batches.reward([alice])
    assert outcomes(tx) == [skipped(CUSTOMER_CAP_REACHED)]
    assert coin.balanceOf(alice) == 0
    assert registry.accountOf(alice) == (0, 0, 0, False)


def test_the_customer_cap_counts_records_whatever_their_reward(batches, registry, admin, coin, alice):
    registry.setCustomerCap(1, {"from": admin})
    tx = batches.reward([alice, alice], FeedbackKind.CSAT_RATING)  # 2 SVC each
    assert outcomes(tx) == [rewarded(2 * COIN, WELCOME), skipped(CUSTOMER_CAP_REACHED)]
    assert coin.balanceOf(alice) == 2 * COIN + WELCOME  # the welcome bonus is not a record


def test_customer_cap_counts_every_batch_of_the_period(batches, registry, alice):
    first = batches.reward([alice] * (CUSTOMER_CAP + 1), FeedbackKind.CSAT_RATING)
    assert [o.rewarded for o in outcomes(first)] == [True] * CUSTOMER_CAP + [False]
    assert outcomes(first)[-1] == skipped(CUSTOMER_CAP_REACHED)
    assert registry.accountOf(alice)["rewardsInPeriod"] == CUSTOMER_CAP
    second = batches.reward([alice], FeedbackKind.REFERRAL)
    assert outcomes(second) == [skipped(CUSTOMER_CAP_REACHED)]
    assert registry.accountOf(alice)["rewardsInPeriod"] == CUSTOMER_CAP


def test_customer_cap_resets_in_the_next_period(batches, registry, admin, chain, alice):
    registry.setCustomerCap(1, {"from": admin})
    batches.reward([alice])
    assert outcomes(batches.reward([alice])) == [skipped(CUSTOMER_CAP_REACHED)]
    _next_period(chain)
    tx = batches.reward([alice])
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert outcomes(tx) == [rewarded(5 * COIN)]
    account = registry.accountOf(alice)
    assert (account["rewardsInPeriod"], account["period"]) == (1, registry.currentPeriod())
    assert account["lifetimeEarned"] == 10 * COIN


def test_a_customer_repeated_across_a_batch_is_counted_in_order(batches, registry, admin, coin, alice, bob):
    """Accounts are read once per batch and updated in memory: a customer's later records in
    the same batch see the earlier ones, wherever they sit in the batch."""
    registry.setCustomerCap(2, {"from": admin})
    records = [batches.record(c) for c in (alice, bob, alice, bob, bob, alice)]
    tx = batches.submit(batches.batch(records))
    assert outcomes(tx) == [  # alice, bob, alice, bob, bob, alice
        rewarded(5 * COIN, WELCOME),
        rewarded(5 * COIN, WELCOME),
        rewarded(5 * COIN),
        rewarded(5 * COIN),
        skipped(CUSTOMER_CAP_REACHED),
        skipped(CUSTOMER_CAP_REACHED),
    ]
    assert [(e["to"], e["value"]) for e in tx.events["Transfer"]] == [
        (alice, 10 * COIN + WELCOME),
        (bob, 10 * COIN + WELCOME),
    ]
    assert registry.accountOf(alice) == registry.accountOf(bob) == (10 * COIN, 2, registry.currentPeriod(), True)


def test_brand_cap_counts_the_welcome_bonus(batches, registry, admin, coin, alice, bob):
    registry.setBrandCap(BRAND, 15 * COIN, {"from": admin})
    tx = batches.reward([alice, bob])  # alice: 5 + 5 welcome; bob would need 10 more, 5 left
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME), skipped(BRAND_CAP_REACHED)]
    assert coin.balanceOf(alice) == 5 * COIN + WELCOME
    assert registry.brandOf(BRAND)["issuedInPeriod"] == 10 * COIN
    assert coin.balanceOf(bob) == 0
    assert registry.accountOf(bob) == (0, 0, 0, False)


def test_brand_cap_left_for_a_returning_customer_is_not_enough_for_a_new_one(
    batches, registry, admin, coin, alice, bob
):
    batches.reward([alice])
    registry.setBrandCap(BRAND, 15 * COIN, {"from": admin})  # 10 issued, 5 left
    tx = batches.reward([bob, alice])
    assert outcomes(tx) == [skipped(BRAND_CAP_REACHED), rewarded(5 * COIN)]  # bob would need 10
    assert coin.balanceOf(bob) == 0
    assert registry.brandOf(BRAND)["issuedInPeriod"] == 15 * COIN


def test_brand_cap_resets_in_the_next_period(batches, registry, admin, chain, alice, bob):
    registry.setBrandCap(BRAND, 10 * COIN, {"from": admin})
    batches.reward([alice])
    assert outcomes(batches.reward([bob])) == [skipped(BRAND_CAP_REACHED)]
    _next_period(chain)
    tx = batches.reward([bob])
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert outcomes(tx) == [rewarded(5 * COIN, WELCOME)]
    brand = registry.brandOf(BRAND)
    assert (brand["issuedInPeriod"], brand["period"]) == (10 * COIN, registry.currentPeriod())


@pytest.mark.parametrize(
    "setter",
    [
        lambda r, amount, tx: r.setBrandCap(BRAND, amount, tx),
        lambda r, amount, tx: r.registerBrand(2, amount, tx),
        lambda r, amount, tx: r.setBaseReward(FeedbackKind.REFERRAL, amount, tx),
        lambda r, amount, tx: r.setWelcomeBonus(amount, tx),
    ],
    ids=["setBrandCap", "registerBrand", "setBaseReward", "setWelcomeBonus"],
)
def test_amounts_above_uint96_are_too_large(registry, admin, setter):
    def amounts():
        return (
            registry.customerCapPerPeriod(),
            registry.brandOf(BRAND),
            registry.baseReward(FeedbackKind.REFERRAL),
            registry.welcomeBonus(),
        )

    before = amounts()
    with brownie.reverts(revert_pattern=error("AmountTooLarge", UINT96_MAX + 1, UINT96_MAX)):
        setter(registry, UINT96_MAX + 1, {"from": admin})
    assert amounts() == before
    assert not registry.brandOf(2)["registered"]


def test_a_customer_cap_above_24_bits_is_too_large(registry, admin):
    with brownie.reverts(revert_pattern=error("AmountTooLarge", UINT24_MAX + 1, UINT24_MAX)):
        registry.setCustomerCap(UINT24_MAX + 1, {"from": admin})
    assert registry.customerCapPerPeriod() == CUSTOMER_CAP


def test_caps_at_their_maximum_are_accepted_and_emitted(registry, admin):
    tx = registry.setCustomerCap(UINT24_MAX, {"from": admin})
    assert tx.events["CustomerCapChanged"] == {"oldCap": CUSTOMER_CAP, "newCap": UINT24_MAX}
    tx = registry.setBrandCap(BRAND, UINT96_MAX, {"from": admin})
    assert tx.events["BrandCapChanged"] == {"brandId": BRAND, "oldCap": 100_000 * COIN, "newCap": UINT96_MAX}
    assert registry.customerCapPerPeriod() == UINT24_MAX
    assert registry.brandOf(BRAND)["capPerPeriod"] == UINT96_MAX


@pytest.fixture
def limits(registry, admin):
    """Every amount at the top of uint96: one SURVEY_RESPONSE record earns the most an account holds."""
    registry.setCustomerCap(UINT24_MAX, {"from": admin})
    registry.setBrandCap(BRAND, UINT96_MAX, {"from": admin})
    registry.setWelcomeBonus(0, {"from": admin})
    registry.setBaseReward(FeedbackKind.SURVEY_RESPONSE, UINT96_MAX, {"from": admin})


def test_a_reward_of_uint96_max_fills_the_brand_cap_and_the_next_records_are_skipped(
    batches, registry, coin, limits, alice, bob
):
    tx = batches.reward([alice, alice, bob])
    assert outcomes(tx) == [rewarded(UINT96_MAX), skipped(BRAND_CAP_REACHED), skipped(BRAND_CAP_REACHED)]
    assert tx.events["BatchRecorded"]["outcomes"][0] == UINT96_MAX  # the reward fills its 96 bits, nothing else
    assert coin.balanceOf(alice) == UINT96_MAX
    assert coin.balanceOf(bob) == 0
    assert registry.accountOf(alice) == (UINT96_MAX, 1, registry.currentPeriod(), True)
    assert registry.brandOf(BRAND)["issuedInPeriod"] == UINT96_MAX


def _fill_the_supply(batches, registry, admin, chain, alice):
    """Alice earns uint96's maximum less one wei in one period, then one more wei in the next:
    her lifetime and the coin's supply both reach uint96's maximum (MAX_SUPPLY)."""
    registry.setBaseReward(FeedbackKind.SURVEY_RESPONSE, UINT96_MAX - 1, {"from": admin})
    batches.reward([alice])
    _next_period(chain)
    registry.setBaseReward(FeedbackKind.CSAT_RATING, 1, {"from": admin})  # 1 wei: under every cap


def test_a_mint_past_the_coin_supply_limit_is_skipped_not_reverted(
    batches, registry, admin, coin, chain, limits, alice, bob
):
    _fill_the_supply(batches, registry, admin, chain, alice)
    batch = batches.batch([batches.record(c, FeedbackKind.CSAT_RATING) for c in (alice, bob)])
    tx = batches.submit(batch)
    assert outcomes(tx) == [rewarded(1), skipped(SUPPLY_LIMIT_REACHED)]  # alice, bob
    assert coin.totalSupply() == coin.MAX_SUPPLY() == UINT96_MAX
    assert coin.mintableSupply() == 0
    assert (coin.balanceOf(alice), coin.balanceOf(bob)) == (UINT96_MAX, 0)
    assert registry.lifetimeEarned(bob) == 0
    # Left unmarked, so a retry once coins are burned can still reward it.
    assert not registry.isRecorded(BRAND, batch.records[1].seq)


def test_a_lifetime_that_would_pass_uint96_is_skipped(
    batches, registry, admin, coin, chain, limits, accounts, alice
):
    _fill_the_supply(batches, registry, admin, chain, alice)
    batches.submit(batches.batch([batches.record(alice, FeedbackKind.CSAT_RATING)]))
    assert registry.lifetimeEarned(alice) == UINT96_MAX
    # Burning some of her coins makes room in the supply; lifetime earned does not go down.
    burner = accounts[7]
    coin.grantRole(coin.BURNER_ROLE(), burner, {"from": admin})
    coin.grantRole(coin.PROTOCOL_ROLE(), burner, {"from": admin})
    coin.approve(burner, COIN, {"from": alice})
    coin.transferFrom(alice, burner, COIN, {"from": burner})
    coin.burn(COIN, {"from": burner})
    assert coin.mintableSupply() == COIN
    batch = batches.batch([batches.record(alice, FeedbackKind.CSAT_RATING)])
    tx = batches.submit(batch)
    assert outcomes(tx) == [skipped(LIFETIME_LIMIT_REACHED)]
    assert registry.lifetimeEarned(alice) == UINT96_MAX
    assert coin.balanceOf(alice) == UINT96_MAX - COIN
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_with_both_the_brand_cap_and_the_supply_passed_the_brand_cap_is_the_reason(
    batches, registry, admin, coin, chain, limits, alice, bob
):
    _fill_the_supply(batches, registry, admin, chain, alice)
    registry.setBrandCap(BRAND, 0, {"from": admin})
    tx = batches.submit(batches.batch([batches.record(bob, FeedbackKind.CSAT_RATING)]))
    assert outcomes(tx) == [skipped(BRAND_CAP_REACHED)]


def test_customers_whose_addresses_collide_in_the_batch_table_are_kept_apart(batches, registry, admin, coin):
    """The batch's customer table is keyed by the address's low bits: these three share them
    (0x...08, 0x...10, 0x...18 in a table of 8 entries), so each lookup probes past the others."""
    registry.setCustomerCap(1, {"from": admin})
    a, b, c = (to_checksum_address(f"0x{'ab' * 19}{low:02x}") for low in (0x08, 0x10, 0x18))
    records = [batches.record(customer) for customer in (a, b, a, c, b)]
    tx = batches.submit(batches.batch(records))
    assert outcomes(tx) == [  # a, b, a, c, b
        rewarded(5 * COIN, WELCOME),
        rewarded(5 * COIN, WELCOME),
        skipped(CUSTOMER_CAP_REACHED),
        rewarded(5 * COIN, WELCOME),
        skipped(CUSTOMER_CAP_REACHED),
    ]
    assert [coin.balanceOf(x) for x in (a, b, c)] == [5 * COIN + WELCOME] * 3
    assert [registry.accountOf(x)["rewardsInPeriod"] for x in (a, b, c)] == [1, 1, 1]
