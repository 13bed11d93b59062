"""Price changes are announced and take effect only PRICE_NOTICE_PERIOD later."""

import brownie

from .helpers import BRAND, COIN, TEST_ITEM_PRICE, error, mine_at, next_block_at

NEW_PRICE = 25 * COIN
WEEK = 604800


def announce(redemption, cataloguer, item, price=NEW_PRICE):
    """Announces a price and returns the transaction and its effectiveAt."""
    tx = redemption.announcePrice(item, price, {"from": cataloguer})
    return tx, tx.events["PriceChangeAnnounced"]["effectiveAt"]


def test_notice_period_is_the_configured_week(redemption):
    assert redemption.PRICE_NOTICE_PERIOD() == WEEK


def test_announcement_emits_effective_at_one_notice_period_later(redemption, cataloguer, item):
    tx, _ = announce(redemption, cataloguer, item)
    event = tx.events["PriceChangeAnnounced"]
    assert event["itemId"] == item
    assert event["oldPrice"] == TEST_ITEM_PRICE
    assert event["newPrice"] == NEW_PRICE
    assert event["effectiveAt"] == tx.timestamp + WEEK


def test_announcement_is_pending(redemption, cataloguer, item):
    tx, _ = announce(redemption, cataloguer, item)
    assert redemption.pendingPriceChange(item) == (NEW_PRICE, tx.timestamp + WEEK)


def test_old_price_applies_until_the_second_before_effective_at(redemption, chain, web3, cataloguer, item):
    _, effective_at = announce(redemption, cataloguer, item)
    mine_at(chain, web3, effective_at - 1)
    assert redemption.priceOf(item) == TEST_ITEM_PRICE
    assert redemption.itemOf(item)[0] == TEST_ITEM_PRICE


def test_new_price_applies_from_effective_at(redemption, chain, web3, cataloguer, item):
    _, effective_at = announce(redemption, cataloguer, item)
    mine_at(chain, web3, effective_at)
    assert redemption.priceOf(item) == NEW_PRICE
    assert redemption.itemOf(item)[0] == NEW_PRICE


def test_redeem_before_effective_at_pays_the_old_price(redemption, coin, chain, web3, cataloguer, item, alice):
    _, effective_at = announce(redemption, cataloguer, item)
    next_block_at(chain, web3, effective_at - 1)
    tx = redemption.redeem(item, NEW_PRICE, {"from": alice})
    assert tx.timestamp == effective_at - 1
    assert tx.events["Redeemed"]["price"] == TEST_ITEM_PRICE
    assert redemption.redemptionOf(tx.return_value)[4] == TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == TEST_ITEM_PRICE


def test_redeem_at_effective_at_pays_the_new_price(redemption, coin, chain, web3, cataloguer, item, alice):
    _, effective_at = announce(redemption, cataloguer, item)
    next_block_at(chain, web3, effective_at)
    tx = redemption.redeem(item, NEW_PRICE, {"from": alice})
    assert tx.timestamp == effective_at
    assert tx.events["Redeemed"]["price"] == NEW_PRICE
    assert redemption.redemptionOf(tx.return_value)[4] == NEW_PRICE
    assert coin.balanceOf(redemption) == NEW_PRICE


def test_redeem_after_effective_at_makes_the_new_price_the_items_price(redemption, chain, cataloguer, item, alice):
    announce(redemption, cataloguer, item)
    chain.sleep(WEEK + 1)
    redemption.redeem(item, NEW_PRICE, {"from": alice})
    assert redemption.pendingPriceChange(item) == (0, 0)
    assert redemption.itemOf(item)[0] == NEW_PRICE
    assert redemption.priceOf(item) == NEW_PRICE


def test_cancel_withdraws_the_announcement(redemption, chain, cataloguer, item):
    announce(redemption, cataloguer, item)
    tx = redemption.cancelPriceChange(item, {"from": cataloguer})
    assert tx.events["PriceChangeCancelled"]["itemId"] == item
    assert redemption.pendingPriceChange(item) == (0, 0)
    chain.sleep(WEEK + 1)
    chain.mine()
    assert redemption.priceOf(item) == TEST_ITEM_PRICE


def test_second_announcement_replaces_the_first_with_a_fresh_notice_period(
    redemption, chain, web3, cataloguer, item
):
    _, first_effective_at = announce(redemption, cataloguer, item)
    chain.sleep(WEEK // 2)
    tx, second_effective_at = announce(redemption, cataloguer, item, price=40 * COIN)
    assert second_effective_at == tx.timestamp + WEEK
    assert tx.events["PriceChangeAnnounced"]["oldPrice"] == TEST_ITEM_PRICE
    assert redemption.pendingPriceChange(item) == (40 * COIN, second_effective_at)
    mine_at(chain, web3, first_effective_at)
    assert redemption.priceOf(item) == TEST_ITEM_PRICE
    mine_at(chain, web3, second_effective_at)
    assert redemption.priceOf(item) == 40 * COIN


def test_announcement_after_a_due_one_reports_the_price_in_force(redemption, chain, cataloguer, item):
    announce(redemption, cataloguer, item)
    chain.sleep(WEEK + 1)
    tx, _ = announce(redemption, cataloguer, item, price=40 * COIN)
    assert tx.events["PriceChangeAnnounced"]["oldPrice"] == NEW_PRICE
    assert redemption.priceOf(item) == NEW_PRICE
    assert redemption.itemOf(item)[0] == NEW_PRICE


def test_price_above_uint96_is_rejected(redemption, cataloguer, item):
    with brownie.reverts(revert_pattern=error("PriceTooLarge", 2**96, 2**96 - 1)):
        redemption.announcePrice(item, 2**96, {"from": cataloguer})
    assert redemption.pendingPriceChange(item) == (0, 0)


def test_largest_uint96_price_is_accepted(redemption, cataloguer, item):
    _, effective_at = announce(redemption, cataloguer, item, price=2**96 - 1)
    assert redemption.pendingPriceChange(item) == (2**96 - 1, effective_at)


def test_announcing_for_an_unknown_item_reverts(redemption, cataloguer):
    with brownie.reverts(revert_pattern=error("ItemNotFound", 5)):
        redemption.announcePrice(5, NEW_PRICE, {"from": cataloguer})


def test_cancelling_for_an_unknown_item_reverts(redemption, cataloguer):
    with brownie.reverts(revert_pattern=error("ItemNotFound", 5)):
        redemption.cancelPriceChange(5, {"from": cataloguer})


def test_announce_and_cancel_only_catalog_role(redemption, admin, alice, item):
    role = redemption.catalogRole(BRAND)
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", alice, role)):
        redemption.announcePrice(item, NEW_PRICE, {"from": alice})
    redemption.announcePrice(item, NEW_PRICE, {"from": admin})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", alice, role)):
        redemption.cancelPriceChange(item, {"from": alice})
    assert redemption.pendingPriceChange(item)[0] == NEW_PRICE


def test_max_price_below_the_current_price_reverts(redemption, cataloguer, item, alice):
    with brownie.reverts(revert_pattern=error("PriceAboveMaximum", item, TEST_ITEM_PRICE, TEST_ITEM_PRICE - 1)):
        redemption.redeem(item, TEST_ITEM_PRICE - 1, {"from": alice})
    assert redemption.redemptionCount() == 0


def test_max_price_protects_a_redemption_sent_as_a_rise_takes_effect(
    redemption, coin, chain, web3, cataloguer, item, alice
):
    _, effective_at = announce(redemption, cataloguer, item)
    # alice saw the old price and sends her redemption; it lands as the new price takes effect
    next_block_at(chain, web3, effective_at)
    with brownie.reverts(revert_pattern=error("PriceAboveMaximum", item, NEW_PRICE, TEST_ITEM_PRICE)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert coin.balanceOf(redemption) == 0
    assert redemption.redemptionCount() == 0


def test_cancel_after_effective_at_is_refused_and_the_price_stays(redemption, chain, cataloguer, item):
    announce(redemption, cataloguer, item)
    chain.sleep(WEEK + 1)
    with brownie.reverts(revert_pattern=error("NoPendingPriceChange", item)):
        redemption.cancelPriceChange(item, {"from": cataloguer})
    assert redemption.priceOf(item) == NEW_PRICE


def test_cancel_without_announcement_is_refused(redemption, cataloguer, item):
    with brownie.reverts(revert_pattern=error("NoPendingPriceChange", item)):
        redemption.cancelPriceChange(item, {"from": cataloguer})
