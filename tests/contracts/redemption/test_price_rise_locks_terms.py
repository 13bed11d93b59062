"""While a price rise waits for its notice period, the item cannot be made harder to get.

Otherwise the catalog role could announce a rise, withdraw the item (or starve it, gate it,
narrow its window) for the notice period and restore it once the new price is in force:
customers would never have a moment to redeem at the announced-before price (found by a
review, 2026-11-24). Loosening stays instant, as does everything when no rise is pending."""

import brownie
import pytest

from .helpers import TEST_ITEM_PRICE, TEST_ITEM_STOCK, error, make_item, mine_at

RISE = 2 * TEST_ITEM_PRICE

# Each way of making the test item (stock 5, no limit, tier 0, always open, active) harder to get.
HARDER = {
    "withdrawn": make_item(active=False),
    "fewer units": make_item(stock=TEST_ITEM_STOCK - 1),
    "no units": make_item(stock=0),
    "a higher tier": make_item(min_tier=1),
    "a per-customer limit": make_item(per_customer_limit=1),
    "a later start": make_item(available_from=1),
    "an end": make_item(available_until=2**40 - 1),
}


def announce(redemption, cataloguer, item, price=RISE):
    tx = redemption.announcePrice(item, price, {"from": cataloguer})
    return tx.events["PriceChangeAnnounced"]["effectiveAt"]


@pytest.mark.parametrize("change", list(HARDER))
def test_an_update_making_the_item_harder_to_get_during_a_rise_is_refused(redemption, cataloguer, item, change):
    effective_at = announce(redemption, cataloguer, item)
    with brownie.reverts(revert_pattern=error("ItemTermsLocked", item, effective_at)):
        redemption.updateItem(item, HARDER[change], {"from": cataloguer})
    assert redemption.itemOf(item) == make_item()


def test_the_item_stays_redeemable_at_the_old_price_for_the_whole_notice(
    redemption, chain, web3, cataloguer, item, funded, alice
):
    effective_at = announce(redemption, cataloguer, item)
    with brownie.reverts(revert_pattern=error("ItemTermsLocked", item, effective_at)):
        redemption.updateItem(item, make_item(active=False), {"from": cataloguer})
    mine_at(chain, web3, effective_at - 5)
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert tx.events["Redeemed"]["price"] == TEST_ITEM_PRICE


def test_a_narrower_end_or_limit_is_refused_where_one_was_set(redemption, cataloguer, item):
    redemption.updateItem(item, make_item(per_customer_limit=3, available_until=2**40 - 1), {"from": cataloguer})
    effective_at = announce(redemption, cataloguer, item)
    for harder in (make_item(per_customer_limit=2, available_until=2**40 - 1),
                   make_item(per_customer_limit=3, available_until=2**40 - 2)):
        with brownie.reverts(revert_pattern=error("ItemTermsLocked", item, effective_at)):
            redemption.updateItem(item, harder, {"from": cataloguer})


def test_an_update_making_the_item_easier_to_get_during_a_rise_is_applied(redemption, cataloguer, item):
    redemption.updateItem(item, make_item(per_customer_limit=1, min_tier=1, available_until=2**40 - 1),
                          {"from": cataloguer})
    announce(redemption, cataloguer, item)
    easier = make_item(stock=TEST_ITEM_STOCK + 10, per_customer_limit=0, min_tier=0, category=2, available_until=0)
    redemption.updateItem(item, easier, {"from": cataloguer})
    assert redemption.itemOf(item) == easier


def test_a_pending_price_cut_locks_nothing(redemption, cataloguer, item):
    announce(redemption, cataloguer, item, price=TEST_ITEM_PRICE // 2)
    redemption.updateItem(item, make_item(active=False), {"from": cataloguer})
    assert redemption.itemOf(item) == make_item(active=False)


def test_after_cancelling_the_rise_the_item_can_be_withdrawn(redemption, cataloguer, item):
    announce(redemption, cataloguer, item)
    redemption.cancelPriceChange(item, {"from": cataloguer})
    redemption.updateItem(item, make_item(active=False), {"from": cataloguer})
    assert redemption.itemOf(item) == make_item(active=False)


def test_once_the_rise_is_in_force_the_terms_are_free_again(redemption, chain, web3, cataloguer, item):
    effective_at = announce(redemption, cataloguer, item)
    mine_at(chain, web3, effective_at)
    redemption.updateItem(item, make_item(active=False), {"from": cataloguer})
    assert redemption.itemOf(item) == make_item(price=RISE, active=False)


@pytest.mark.parametrize("unredeemable", [
    make_item(active=False), make_item(stock=0), make_item(available_from=2**40 - 2, available_until=2**40 - 1),
    make_item(available_from=1, available_until=2),
], ids=["withdrawn", "out of stock", "not yet open", "closed"])
def test_a_rise_needs_an_item_customers_can_redeem_now(redemption, cataloguer, item, unredeemable):
    """Else: withdraw the item, announce the rise, restore it at the new price; or cancel a rise
    to withdraw it and announce again (a review finding, 2026-11-24)."""
    redemption.updateItem(item, unredeemable, {"from": cataloguer})
    with brownie.reverts(revert_pattern=error("RiseNeedsRedeemableItem", item)):
        redemption.announcePrice(item, RISE, {"from": cataloguer})
    redemption.announcePrice(item, TEST_ITEM_PRICE // 2, {"from": cataloguer})  # a cut needs no notice to be fair
    assert redemption.pendingPriceChange(item)[0] == TEST_ITEM_PRICE // 2


def test_cancelling_a_rise_to_withdraw_the_item_leaves_no_way_to_raise_it_without_a_notice(
    redemption, cataloguer, item
):
    announce(redemption, cataloguer, item)
    redemption.cancelPriceChange(item, {"from": cataloguer})
    redemption.updateItem(item, make_item(active=False), {"from": cataloguer})
    with brownie.reverts(revert_pattern=error("RiseNeedsRedeemableItem", item)):
        redemption.announcePrice(item, RISE, {"from": cataloguer})
