"""Brands share one catalog, and each brand's keys act on that brand's perks only: one brand's
catalog role cannot add, change or reprice another brand's items, and one brand's fulfiller
cannot fulfil or refund another brand's redemptions. The arbiter is the deployment's."""

import brownie
import pytest
from eth_utils import keccak

from .helpers import (
    BRAND,
    OTHER_BRAND,
    PENDING,
    REFUNDED,
    TEST_ITEM_ID,
    TEST_ITEM_PRICE,
    ZERO32,
    error,
    make_item,
    mine_at,
)

OTHER_ITEM = TEST_ITEM_ID + 1  # the `other_brand` fixture's item
OTHER_STAFF_KEYS = [keccak(text=f"servicecoin-other-brand-{name}") for name in ("catalog", "fulfiller")]
COMMITMENT = keccak(text="delivered")


@pytest.fixture(scope="module")
def other_staff(accounts, admin):
    """The second brand's catalog manager and fulfiller: fresh keys, funded for gas."""
    staff = [accounts.add(key.hex()) for key in OTHER_STAFF_KEYS]
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


def test_every_event_names_the_brand(redemption, arbiter, other_staff, alice):
    cataloguer, fulfiller = other_staff
    events = [
        redemption.updateItem(OTHER_ITEM, make_item(stock=9), {"from": cataloguer}).events["ItemUpdated"],
        redemption.announcePrice(OTHER_ITEM, 1, {"from": cataloguer}).events["PriceChangeAnnounced"],
        redemption.cancelPriceChange(OTHER_ITEM, {"from": cataloguer}).events["PriceChangeCancelled"],
    ]
    rid = redemption.redeem(OTHER_ITEM, TEST_ITEM_PRICE, {"from": alice}).return_value
    events.append(redemption.fulfil(rid, COMMITMENT, {"from": fulfiller}).events["Fulfilled"])
    events.append(redemption.dispute(rid, {"from": alice}).events["Disputed"])
    rejected = redemption.rejectDispute(rid, {"from": arbiter})
    events += [rejected.events["DisputeRejected"], rejected.events["Settled"]]
    refunded = redemption.redeem(OTHER_ITEM, TEST_ITEM_PRICE, {"from": alice}).return_value
    events.append(redemption.refund(refunded, {"from": fulfiller}).events["Refunded"])
    assert [event["brandId"] for event in events] == [OTHER_BRAND] * len(events)


def test_an_item_keeps_its_brand_through_applied_and_cancelled_prices(redemption, chain, web3, fulfiller, other_staff, alice):
    """The brand shares its slot with the announced price: applying a due price (in redeem) and
    cancelling an announcement clear the price and keep the brand. (From a review's probe.)"""
    cataloguer = other_staff[0]
    effective_at = redemption.announcePrice(OTHER_ITEM, TEST_ITEM_PRICE // 2, {"from": cataloguer}).events[
        "PriceChangeAnnounced"]["effectiveAt"]
    mine_at(chain, web3, effective_at)
    tx = redemption.redeem(OTHER_ITEM, TEST_ITEM_PRICE, {"from": alice})  # applies the due price
    assert tx.events["Redeemed"]["price"] == TEST_ITEM_PRICE // 2
    assert tx.events["Redeemed"]["brandId"] == OTHER_BRAND and redemption.itemBrand(OTHER_ITEM) == OTHER_BRAND
    redemption.announcePrice(OTHER_ITEM, TEST_ITEM_PRICE, {"from": cataloguer})
    redemption.cancelPriceChange(OTHER_ITEM, {"from": cataloguer})
    assert redemption.itemBrand(OTHER_ITEM) == OTHER_BRAND
    role = redemption.fulfillerRole(OTHER_BRAND)
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", fulfiller, role)):
        redemption.fulfil(tx.return_value, COMMITMENT, {"from": fulfiller})


def test_a_forwarded_call_of_another_brands_catalog_key_is_refused(redemption, gasless, admin, relayer, item):
    """Through the trusted forwarder the signer is the caller: another brand's catalog key gets
    no further than it would directly. (From a review's probe.)"""
    other_cataloguer = other_staff_address(0)
    data = redemption.updateItem.encode_input(item, make_item(active=False))
    role = redemption.catalogRole(BRAND)
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", other_cataloguer, role)):
        redemption.updateItem.call(item, make_item(active=False), {"from": other_cataloguer})
    request, signature = gasless.request(OTHER_STAFF_KEYS[0], redemption, data, gasless.deadline(), 300_000)
    with brownie.reverts(revert_pattern=error("FailedCall")):  # the forwarder does not bubble the error up
        gasless.execute(request, signature, relayer)
    assert redemption.itemOf(item) == make_item()
    # The control: the same call signed by a key holding BRAND's catalog role goes through, so the
    # forwarder does pass its signer on, and the refusal above is the role's.
    own_key = keccak(text="servicecoin-brand-cataloguer-forwarded")
    redemption.grantRole(role, other_staff_address(key=own_key), {"from": admin})
    request, signature = gasless.request(own_key, redemption, data, gasless.deadline(), 300_000)
    gasless.execute(request, signature, relayer)
    assert redemption.itemOf(item) == make_item(active=False)


def other_staff_address(index=0, key=None):
    from eth_account import Account

    return Account.from_key(key if key is not None else OTHER_STAFF_KEYS[index]).address
