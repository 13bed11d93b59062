"""Brands share one catalog, and each brand's keys act on that brand's perks only: one brand's
catalog role cannot add, change or reprice another brand's items, and one brand's fulfiller
cannot fulfil or refund another brand's redemptions. The arbiter is the deployment's."""

import brownie
import pytest
from eth_utils import keccak

from .helpers import BRAND, OTHER_BRAND, PENDING, REFUNDED, TEST_ITEM_ID, TEST_ITEM_PRICE, ZERO32, error, make_item

OTHER_ITEM = TEST_ITEM_ID + 1  # the `other_brand` fixture's item
COMMITMENT = keccak(text="delivered")


@pytest.fixture(scope="module")
def other_staff(accounts, admin):
    """The second brand's catalog manager and fulfiller: fresh keys, funded for gas."""
    staff = [accounts.add(keccak(text=f"servicecoin-other-brand-{name}").hex()) for name in ("catalog", "fulfiller")]
    for account in staff:
        admin.transfer(account, "1 ether")
    return staff


@pytest.fixture(scope="module", autouse=True)
def other_brand(module_isolation, item, redemption, admin, other_staff):
    """OTHER_BRAND's roles for its staff and one item of its own, OTHER_ITEM."""
    cataloguer, fulfiller = other_staff
    redemption.grantRole(redemption.catalogRole(OTHER_BRAND), cataloguer, {"from": admin})
    redemption.grantRole(redemption.fulfillerRole(OTHER_BRAND), fulfiller, {"from": admin})
    assert redemption.addItem(OTHER_BRAND, make_item(), {"from": cataloguer}).return_value == OTHER_ITEM


def test_each_item_keeps_the_brand_that_added_it(redemption, item):
    assert redemption.itemBrand(item) == BRAND
    assert redemption.itemBrand(OTHER_ITEM) == OTHER_BRAND


def test_the_brand_of_an_unknown_item_reverts(redemption):
    with brownie.reverts(revert_pattern=error("ItemNotFound", OTHER_ITEM + 1)):
        redemption.itemBrand(OTHER_ITEM + 1)


def test_a_brand_cannot_add_items_for_another_brand(redemption, cataloguer, other_staff):
    for caller, brand in ((cataloguer, OTHER_BRAND), (other_staff[0], BRAND)):
        role = redemption.catalogRole(brand)
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.addItem(brand, make_item(), {"from": caller})
    assert redemption.itemCount() == OTHER_ITEM + 1


@pytest.mark.parametrize("action", ["updateItem", "announcePrice", "cancelPriceChange"])
def test_a_brand_cannot_change_another_brands_item(redemption, cataloguer, other_staff, item, action):
    other_cataloguer = other_staff[0]
    redemption.announcePrice(OTHER_ITEM, TEST_ITEM_PRICE // 2, {"from": other_cataloguer})
    redemption.announcePrice(item, TEST_ITEM_PRICE // 2, {"from": cataloguer})
    args = {"updateItem": (make_item(active=False),), "announcePrice": (1,), "cancelPriceChange": ()}[action]
    for caller, target, brand in ((cataloguer, OTHER_ITEM, OTHER_BRAND), (other_cataloguer, item, BRAND)):
        role = redemption.catalogRole(brand)
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            getattr(redemption, action)(target, *args, {"from": caller})
    for target in (item, OTHER_ITEM):
        assert redemption.itemOf(target) == make_item()
        assert redemption.pendingPriceChange(target)[0] == TEST_ITEM_PRICE // 2


def test_the_owning_brand_manages_its_item(redemption, other_staff):
    other_cataloguer = other_staff[0]
    tx = redemption.updateItem(OTHER_ITEM, make_item(stock=9), {"from": other_cataloguer})
    assert tx.events["ItemUpdated"]["itemId"] == OTHER_ITEM
    redemption.announcePrice(OTHER_ITEM, 1, {"from": other_cataloguer})
    redemption.cancelPriceChange(OTHER_ITEM, {"from": other_cataloguer})
    assert redemption.itemOf(OTHER_ITEM) == make_item(stock=9)


def test_a_redemption_carries_its_items_brand(redemption, item, alice):
    tx = redemption.redeem(OTHER_ITEM, TEST_ITEM_PRICE, {"from": alice})
    assert tx.events["Redeemed"]["brandId"] == OTHER_BRAND
    assert tx.events["Redeemed"]["itemId"] == OTHER_ITEM
    rid = tx.return_value
    assert redemption.redemptionOf(rid) == (
        alice, OTHER_ITEM, tx.timestamp, PENDING, TEST_ITEM_PRICE, 0, 0, OTHER_BRAND, ZERO32
    )
    assert redemption.redemptionOf(redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice}).return_value)[7] == BRAND


def test_a_fulfiller_cannot_fulfil_another_brands_redemption(redemption, fulfiller, other_staff, item, alice):
    ours = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice}).return_value
    theirs = redemption.redeem(OTHER_ITEM, TEST_ITEM_PRICE, {"from": alice}).return_value
    for caller, rid, brand in ((fulfiller, theirs, OTHER_BRAND), (other_staff[1], ours, BRAND)):
        role = redemption.fulfillerRole(brand)
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.fulfil(rid, COMMITMENT, {"from": caller})
        assert redemption.redemptionOf(rid)[3] == PENDING
    redemption.fulfil(theirs, COMMITMENT, {"from": other_staff[1]})
    redemption.fulfil(ours, COMMITMENT, {"from": fulfiller})


def test_a_fulfiller_cannot_refund_another_brands_redemption(redemption, coin, fulfiller, other_staff, alice):
    rid = redemption.redeem(OTHER_ITEM, TEST_ITEM_PRICE, {"from": alice}).return_value
    with brownie.reverts(revert_pattern=error("NotAuthorisedToRefund", rid, fulfiller)):
        redemption.refund(rid, {"from": fulfiller})
    balance = coin.balanceOf(alice)
    redemption.refund(rid, {"from": other_staff[1]})
    assert redemption.redemptionOf(rid)[3] == REFUNDED
    assert coin.balanceOf(alice) == balance + TEST_ITEM_PRICE


def test_the_arbiter_refunds_any_brands_redemption(redemption, arbiter, item, alice):
    for target in (item, OTHER_ITEM):
        rid = redemption.redeem(target, TEST_ITEM_PRICE, {"from": alice}).return_value
        redemption.refund(rid, {"from": arbiter})
        assert redemption.redemptionOf(rid)[3] == REFUNDED


def test_fulfilling_an_unknown_redemption_names_it_before_any_role(redemption, outsider):
    with brownie.reverts(revert_pattern=error("RedemptionNotFound", 0)):
        redemption.fulfil(0, COMMITMENT, {"from": outsider})


def test_changing_an_unknown_item_names_it_before_any_role(redemption, outsider):
    with brownie.reverts(revert_pattern=error("ItemNotFound", OTHER_ITEM + 1)):
        redemption.updateItem(OTHER_ITEM + 1, make_item(), {"from": outsider})


def test_a_revoked_brand_role_stops_that_brand_only(redemption, admin, cataloguer, other_staff, item):
    redemption.revokeRole(redemption.catalogRole(OTHER_BRAND), other_staff[0], {"from": admin})
    with brownie.reverts(revert_pattern=error(
        "AccessControlUnauthorizedAccount", other_staff[0], redemption.catalogRole(OTHER_BRAND)
    )):
        redemption.updateItem(OTHER_ITEM, make_item(stock=1), {"from": other_staff[0]})
    redemption.updateItem(item, make_item(stock=1), {"from": cataloguer})
    assert redemption.itemOf(item)[1] == 1
