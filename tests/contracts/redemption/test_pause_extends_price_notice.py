"""A pause never spends a price notice: time the contract spends paused after an announcement
is added to its effect time, as it is to dispute windows. Otherwise a pause as long as the
notice would bring the new price in with customers never able to redeem at the old one (found
by a review, 2026-11-24)."""

import pytest

from .helpers import TEST_ITEM_PRICE, mine_at

RISE = 2 * TEST_ITEM_PRICE
WEEK = 604800


@pytest.fixture
def announced(redemption, cataloguer, item):
    """The rise's effectiveAt as announced."""
    return redemption.announcePrice(item, RISE, {"from": cataloguer}).events["PriceChangeAnnounced"]["effectiveAt"]


def pause_for(redemption, chain, pauser, admin, seconds):
    paused_at = redemption.pause({"from": pauser}).timestamp
    chain.sleep(seconds)
    return redemption.unpause({"from": admin}).timestamp - paused_at


def test_a_pause_as_long_as_the_notice_leaves_the_old_price_in_force(
    redemption, chain, pauser, admin, item, funded, alice, announced
):
    paused = pause_for(redemption, chain, pauser, admin, WEEK + 60)
    assert redemption.priceOf(item) == TEST_ITEM_PRICE
    assert redemption.pendingPriceChange(item) == (RISE, announced + paused)
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert tx.events["Redeemed"]["price"] == TEST_ITEM_PRICE


def test_the_new_price_applies_at_the_announced_time_plus_the_pause(
    redemption, chain, web3, pauser, admin, item, announced
):
    paused = pause_for(redemption, chain, pauser, admin, 3600)
    mine_at(chain, web3, announced + paused - 1)
    assert redemption.priceOf(item) == TEST_ITEM_PRICE
    mine_at(chain, web3, announced + paused)
    assert redemption.priceOf(item) == RISE


def test_during_a_pause_the_effect_time_moves_with_it(redemption, chain, web3, pauser, item, announced):
    paused_at = redemption.pause({"from": pauser}).timestamp
    mine_at(chain, web3, announced + 100)
    assert redemption.priceOf(item) == TEST_ITEM_PRICE
    assert redemption.pendingPriceChange(item) == (RISE, announced + (announced + 100 - paused_at))


def test_a_pause_before_the_announcement_does_not_extend_it(redemption, chain, pauser, admin, cataloguer, item):
    pause_for(redemption, chain, pauser, admin, 3600)
    tx = redemption.announcePrice(item, RISE, {"from": cataloguer})
    assert redemption.pendingPriceChange(item) == (RISE, tx.timestamp + WEEK)


def test_an_announcement_made_while_paused_counts_only_the_rest_of_that_pause(
    redemption, chain, pauser, admin, cataloguer, item
):
    redemption.pause({"from": pauser})
    chain.sleep(3600)
    announced_at = redemption.announcePrice(item, RISE, {"from": cataloguer}).timestamp
    chain.sleep(600)
    unpaused_at = redemption.unpause({"from": admin}).timestamp
    assert redemption.pendingPriceChange(item) == (RISE, announced_at + WEEK + (unpaused_at - announced_at))


def test_a_price_already_in_force_stays_in_force_through_a_pause(
    redemption, chain, web3, pauser, admin, item, announced
):
    mine_at(chain, web3, announced)
    assert redemption.priceOf(item) == RISE
    pause_for(redemption, chain, pauser, admin, 3600)
    assert redemption.priceOf(item) == RISE
