"""redeem: the price goes into escrow and a Pending redemption opens; every gate has its error."""

import brownie

from .helpers import (
    BALANCE_EACH,
    BRAND,
    COIN,
    PENDING,
    PRIORITY_SUPPORT,
    TEST_ITEM_PRICE,
    TEST_ITEM_STOCK,
    ZERO32,
    error,
    make_item,
    next_block_at,
)


def test_redeem_moves_the_price_into_escrow(redemption, coin, item, alice):
    supply = coin.totalSupply()
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert coin.balanceOf(alice) == BALANCE_EACH - TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == TEST_ITEM_PRICE
    assert coin.totalSupply() == supply


def test_redeem_takes_one_unit_of_stock(redemption, item, alice):
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert redemption.itemOf(item)[1] == TEST_ITEM_STOCK - 1


def test_redeem_counts_the_unit_against_the_customer(redemption, item, alice, bob):
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert redemption.redeemedBy(item, alice) == 2
    assert redemption.redeemedBy(item, bob) == 0


def test_redeem_opens_a_pending_redemption(redemption, item, alice):
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert tx.return_value == 0
    assert redemption.redemptionCount() == 1
    assert redemption.redemptionOf(0) == (alice, item, tx.timestamp, PENDING, TEST_ITEM_PRICE, 0, 0, BRAND, ZERO32)


def test_redemption_ids_count_up(redemption, item, alice, bob):
    first = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice}).return_value
    second = redemption.redeem(item, TEST_ITEM_PRICE, {"from": bob}).return_value
    assert (first, second) == (0, 1)
    assert redemption.redemptionOf(second)[0] == bob


def test_redeem_emits_redeemed_with_the_tier(redemption, admin, item, alice):
    redemption.setTiers([0, 50 * COIN], [10_000, 11_000], {"from": admin})  # alice (lifetime 80) is tier 1
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    event = tx.events["Redeemed"]
    assert event["redemptionId"] == 0
    assert event["customer"] == alice
    assert event["brandId"] == BRAND
    assert event["itemId"] == item
    assert event["price"] == TEST_ITEM_PRICE
    assert event["tier"] == 1


def test_redeem_pays_the_price_not_the_max_price(redemption, coin, item, alice):
    redemption.redeem(item, 10 * TEST_ITEM_PRICE, {"from": alice})
    assert coin.balanceOf(alice) == BALANCE_EACH - TEST_ITEM_PRICE


def test_redeem_of_an_inactive_item_reverts(redemption, cataloguer, item, alice):
    redemption.updateItem(item, make_item(active=False), {"from": cataloguer})
    with brownie.reverts(revert_pattern=error("ItemNotActive", item)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})


def test_redeem_before_the_window_opens_reverts(redemption, chain, cataloguer, item, alice):
    opens = chain.time() + 3600
    redemption.updateItem(item, make_item(available_from=opens), {"from": cataloguer})
    with brownie.reverts(revert_pattern=error("ItemNotAvailable", item, opens, 0, "") + r"\d+"):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})


def test_redeem_after_the_window_closes_reverts(redemption, chain, cataloguer, item, alice):
    opens = chain.time() - 3600
    closes = chain.time() + 3600
    redemption.updateItem(item, make_item(available_from=opens, available_until=closes), {"from": cataloguer})
    chain.sleep(7200)
    with brownie.reverts(revert_pattern=error("ItemNotAvailable", item, opens, closes, "") + r"\d+"):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})


def test_redeem_within_the_window_succeeds(redemption, chain, cataloguer, item, alice):
    opens = chain.time() + 3600
    closes = opens + 3600
    redemption.updateItem(item, make_item(available_from=opens, available_until=closes), {"from": cataloguer})
    chain.sleep(5400)
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert opens <= tx.timestamp <= closes
    assert redemption.redemptionOf(tx.return_value)[3] == PENDING


def test_redeem_at_the_first_and_last_second_of_the_window(redemption, chain, web3, cataloguer, item, alice):
    opens = chain.time() + 3600
    closes = opens + 3600
    redemption.updateItem(item, make_item(available_from=opens, available_until=closes), {"from": cataloguer})
    next_block_at(chain, web3, opens)
    first = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    next_block_at(chain, web3, closes)
    last = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert (first.timestamp, last.timestamp) == (opens, closes)
    assert redemption.redeemedBy(item, alice) == 2


def test_redeem_of_a_sold_out_item_reverts(redemption, cataloguer, item, alice, bob):
    redemption.updateItem(item, make_item(stock=1), {"from": cataloguer})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    with brownie.reverts(revert_pattern=error("InsufficientStock", item, 0)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": bob})


def test_redeem_below_the_items_tier_reverts(redemption, alice):
    # "Priority support for a month" needs tier 1 (Silver, 100 lifetime); alice has earned 80
    with brownie.reverts(revert_pattern=error("TierTooLow", PRIORITY_SUPPORT, 1, 0)):
        redemption.redeem(PRIORITY_SUPPORT, 120 * COIN, {"from": alice})


def test_redeem_at_the_items_tier_succeeds(redemption, coin, earn, carol):
    earn([carol], count=10)  # lifetime 100: Silver
    earn([carol], count=3)  # 3 more reviews at Silver's 1.1x: balance 100 + 33 + 5 welcome
    coin.approve(redemption, 120 * COIN, {"from": carol})
    tx = redemption.redeem(PRIORITY_SUPPORT, 120 * COIN, {"from": carol})
    assert tx.events["Redeemed"]["tier"] == 1
    assert coin.balanceOf(carol) == 18 * COIN


def test_redeem_beyond_the_per_customer_limit_reverts(redemption, cataloguer, item, alice, bob):
    redemption.updateItem(item, make_item(per_customer_limit=2), {"from": cataloguer})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    with brownie.reverts(revert_pattern=error("CustomerLimitReached", item, 2)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": bob})  # the limit is per customer
    assert redemption.redeemedBy(item, bob) == 1


def test_redeem_without_allowance_reverts(redemption, coin, earn, item, carol):
    earn([carol], count=2)  # 25 coins, no approval
    with brownie.reverts(revert_pattern=error("ERC20InsufficientAllowance", redemption, 0, TEST_ITEM_PRICE)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": carol})
    assert coin.balanceOf(carol) == 25 * COIN
    assert redemption.redemptionCount() == 0


def test_redeem_without_enough_coins_reverts(redemption, coin, item, carol):
    coin.approve(redemption, TEST_ITEM_PRICE, {"from": carol})
    with brownie.reverts(revert_pattern=error("ERC20InsufficientBalance", carol, 0, TEST_ITEM_PRICE)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": carol})


def test_redeem_of_an_unknown_item_reverts(redemption, alice):
    with brownie.reverts(revert_pattern=error("ItemNotFound", 5)):
        redemption.redeem(5, TEST_ITEM_PRICE, {"from": alice})


def test_a_free_item_is_redeemed_without_coins(redemption, coin, cataloguer, carol):
    free = redemption.addItem(BRAND, make_item(price=0), {"from": cataloguer}).return_value
    tx = redemption.redeem(free, 0, {"from": carol})
    assert tx.events["Redeemed"]["price"] == 0
    assert redemption.redemptionOf(tx.return_value)[3] == PENDING
    assert coin.balanceOf(redemption) == 0
