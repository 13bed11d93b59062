"""The catalog: addItem and updateItem (the brand's catalog role only), their events, windows, unknown ids."""

import brownie
import pytest

from .helpers import BRAND, COIN, EBOOK, PRIORITY_SUPPORT, TEST_ITEM_PRICE, error, make_item


def test_deployment_adds_the_development_catalog(redemption, item):
    # four items from scripts/config/development.yaml, then the suite's test item
    assert redemption.itemCount() == 5
    assert item == 4
    assert redemption.itemOf(PRIORITY_SUPPORT) == (120 * COIN, 200, 1, 1, 1, 0, 0, True)
    assert redemption.itemOf(EBOOK) == (30 * COIN, 5000, 0, 0, 3, 0, 0, True)


def test_add_item_returns_the_next_id_and_stores_the_item(redemption, cataloguer):
    new_item = make_item(price=7 * COIN, stock=3, per_customer_limit=2, min_tier=1, category=4)
    tx = redemption.addItem(BRAND, new_item, {"from": cataloguer})
    assert tx.return_value == 5
    assert redemption.itemCount() == 6
    assert redemption.itemOf(5) == new_item


def test_add_item_emits_item_added(redemption, cataloguer):
    new_item = make_item(price=7 * COIN, stock=3, available_from=100, available_until=200, category=2)
    tx = redemption.addItem(BRAND, new_item, {"from": cataloguer})
    assert tx.events["ItemAdded"]["itemId"] == 5
    assert tx.events["ItemAdded"]["brandId"] == BRAND
    assert tx.events["ItemAdded"]["item"] == new_item


def test_add_item_only_catalog_role(redemption, admin, fulfiller, alice):
    role = redemption.catalogRole(BRAND)
    redemption.revokeRole(role, admin, {"from": admin})
    for caller in (admin, fulfiller, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.addItem(BRAND, make_item(), {"from": caller})
    assert redemption.itemCount() == 5


def test_update_item_changes_everything_but_the_price(redemption, cataloguer, item):
    updated = make_item(price=TEST_ITEM_PRICE, stock=9, per_customer_limit=1, min_tier=2, category=1,
                        available_from=10, available_until=20, active=False)
    redemption.updateItem(item, updated, {"from": cataloguer})
    assert redemption.itemOf(item) == updated


def test_update_item_emits_item_updated(redemption, cataloguer, item):
    updated = make_item(stock=9, per_customer_limit=1)
    tx = redemption.updateItem(item, updated, {"from": cataloguer})
    assert tx.events["ItemUpdated"]["itemId"] == item
    assert tx.events["ItemUpdated"]["item"] == updated


def test_update_item_cannot_change_the_price(redemption, cataloguer, item):
    tx = redemption.updateItem(item, make_item(price=1, stock=9), {"from": cataloguer})
    assert redemption.priceOf(item) == TEST_ITEM_PRICE
    assert redemption.itemOf(item) == make_item(price=TEST_ITEM_PRICE, stock=9)
    assert tx.events["ItemUpdated"]["item"][0] == TEST_ITEM_PRICE


def test_update_item_keeps_a_pending_price_change(redemption, cataloguer, item):
    tx = redemption.announcePrice(item, 20 * COIN, {"from": cataloguer})
    effective_at = tx.events["PriceChangeAnnounced"]["effectiveAt"]
    redemption.updateItem(item, make_item(stock=9), {"from": cataloguer})
    assert redemption.pendingPriceChange(item) == (20 * COIN, effective_at)


def test_update_item_only_catalog_role(redemption, admin, arbiter, alice, item):
    role = redemption.catalogRole(BRAND)
    redemption.revokeRole(role, admin, {"from": admin})
    for caller in (admin, arbiter, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.updateItem(item, make_item(active=False), {"from": caller})
    assert redemption.itemOf(item) == make_item()


@pytest.mark.parametrize("available_from, available_until", [(0, 0), (200, 0), (100, 100), (100, 200)])
def test_add_item_accepts_a_window_that_ends_at_or_after_its_start_or_never(
    redemption, cataloguer, available_from, available_until
):
    new_item = make_item(available_from=available_from, available_until=available_until)
    redemption.addItem(BRAND, new_item, {"from": cataloguer})
    assert redemption.itemOf(5) == new_item


def test_add_item_rejects_a_window_that_ends_before_it_starts(redemption, cataloguer):
    with brownie.reverts(revert_pattern=error("InvalidWindow", 200, 199)):
        redemption.addItem(BRAND, make_item(available_from=200, available_until=199), {"from": cataloguer})
    assert redemption.itemCount() == 5


def test_update_item_rejects_a_window_that_ends_before_it_starts(redemption, cataloguer, item):
    with brownie.reverts(revert_pattern=error("InvalidWindow", 200, 1)):
        redemption.updateItem(item, make_item(available_from=200, available_until=1), {"from": cataloguer})
    assert redemption.itemOf(item) == make_item()


def test_update_unknown_item_reverts(redemption, cataloguer):
    with brownie.reverts(revert_pattern=error("ItemNotFound", 5)):
        redemption.updateItem(5, make_item(), {"from": cataloguer})


@pytest.mark.parametrize("view", ["itemOf", "priceOf"])
def test_views_of_an_unknown_item_revert(redemption, view):
    with brownie.reverts(revert_pattern=error("ItemNotFound", 5)):
        getattr(redemption, view)(5)


def test_unknown_item_has_no_pending_price_change(redemption):
    assert redemption.pendingPriceChange(5) == (0, 0)


def test_item_updated_reports_the_price_in_force(redemption, chain, cataloguer, item):
    redemption.announcePrice(item, 20 * COIN, {"from": cataloguer})
    chain.sleep(redemption.PRICE_NOTICE_PERIOD() + 1)
    tx = redemption.updateItem(item, make_item(stock=9), {"from": cataloguer})
    assert redemption.itemOf(item)[0] == 20 * COIN
    assert tx.events["ItemUpdated"]["item"][0] == 20 * COIN
