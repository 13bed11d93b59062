"""The redemption lifecycle: fulfil, dispute, refund, rejectDispute, settle."""

import brownie
import pytest
from eth_utils import keccak

from .helpers import (
    BALANCE_EACH,
    BRAND,
    DISPUTED,
    FULFILLED,
    PENDING,
    REFUNDED,
    SETTLED,
    TEST_ITEM_PRICE,
    TEST_ITEM_STOCK,
    error,
    make_item,
    next_block_at,
)

DISPUTE_WINDOW = 1209600  # two weeks, from scripts/config/development.yaml
COMMITMENT = keccak(text="salt-1|DISCOUNT-CODE-ABCD")
RID = 0  # alice's redemption, opened by `opened`


@pytest.fixture(scope="module", autouse=True)
def opened(redemption, item, funded, alice):
    """alice has redeemed the test item once: redemption 0, Pending."""
    return redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice}).return_value


def fulfilled(redemption, fulfiller):
    """Fulfils redemption 0 and returns its fulfilledAt."""
    return redemption.fulfil(RID, COMMITMENT, {"from": fulfiller}).timestamp


def disputed(redemption, fulfiller, alice):
    fulfilled(redemption, fulfiller)
    redemption.dispute(RID, {"from": alice})


def test_dispute_window_is_the_configured_two_weeks(redemption):
    assert redemption.DISPUTE_WINDOW() == DISPUTE_WINDOW


# ------------------------------------------------------------------ fulfil


def test_fulfil_marks_fulfilled_and_stores_the_commitment(redemption, fulfiller, alice, item):
    tx = redemption.fulfil(RID, COMMITMENT, {"from": fulfiller})
    customer, item_id, _, status, price_paid, fulfilled_at, pause_clock, brand, commitment = redemption.redemptionOf(RID)
    assert (customer, item_id, status, price_paid) == (alice, item, FULFILLED, TEST_ITEM_PRICE)
    assert fulfilled_at == tx.timestamp
    assert pause_clock == 0
    assert brand == BRAND
    assert commitment == "0x" + COMMITMENT.hex()


def test_fulfil_emits_fulfilled(redemption, fulfiller):
    tx = redemption.fulfil(RID, COMMITMENT, {"from": fulfiller})
    assert tx.events["Fulfilled"]["redemptionId"] == RID
    assert tx.events["Fulfilled"]["deliveryCommitment"] == "0x" + COMMITMENT.hex()


def test_fulfil_only_fulfiller_role(redemption, arbiter, cataloguer, alice):
    role = redemption.fulfillerRole(BRAND)
    for caller in (arbiter, cataloguer, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.fulfil(RID, COMMITMENT, {"from": caller})
    assert redemption.redemptionOf(RID)[3] == PENDING


def test_fulfil_twice_reverts(redemption, fulfiller):
    fulfilled(redemption, fulfiller)
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, FULFILLED)):
        redemption.fulfil(RID, keccak(text="another"), {"from": fulfiller})
    assert redemption.redemptionOf(RID)[8] == "0x" + COMMITMENT.hex()


def test_fulfil_of_a_refunded_redemption_reverts(redemption, fulfiller):
    redemption.refund(RID, {"from": fulfiller})
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, REFUNDED)):
        redemption.fulfil(RID, COMMITMENT, {"from": fulfiller})


# ------------------------------------------------------------------ dispute


def test_customer_disputes_a_fulfilled_redemption(redemption, fulfiller, alice):
    fulfilled(redemption, fulfiller)
    tx = redemption.dispute(RID, {"from": alice})
    assert tx.events["Disputed"]["redemptionId"] == RID
    assert tx.events["Disputed"]["customer"] == alice
    assert redemption.redemptionOf(RID)[3] == DISPUTED


def test_only_the_redemptions_customer_may_dispute(redemption, fulfiller, arbiter, bob):
    fulfilled(redemption, fulfiller)
    for caller in (bob, arbiter):
        with brownie.reverts(revert_pattern=error("NotRedemptionCustomer", RID, caller)):
            redemption.dispute(RID, {"from": caller})
    assert redemption.redemptionOf(RID)[3] == FULFILLED


def test_dispute_of_a_pending_redemption_reverts(redemption, alice):
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, PENDING)):
        redemption.dispute(RID, {"from": alice})


def test_dispute_twice_reverts(redemption, fulfiller, alice):
    disputed(redemption, fulfiller, alice)
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, DISPUTED)):
        redemption.dispute(RID, {"from": alice})


def test_dispute_at_the_last_second_of_the_window_succeeds(redemption, chain, web3, fulfiller, alice):
    closes_at = fulfilled(redemption, fulfiller) + DISPUTE_WINDOW
    next_block_at(chain, web3, closes_at)
    tx = redemption.dispute(RID, {"from": alice})
    assert tx.timestamp == closes_at
    assert redemption.redemptionOf(RID)[3] == DISPUTED


def test_dispute_after_the_window_reverts(redemption, chain, web3, fulfiller, alice):
    closes_at = fulfilled(redemption, fulfiller) + DISPUTE_WINDOW
    next_block_at(chain, web3, closes_at + 1)
    with brownie.reverts(revert_pattern=error("DisputeWindowClosed", RID, closes_at)):
        redemption.dispute(RID, {"from": alice})
    assert redemption.redemptionOf(RID)[3] == FULFILLED


# ------------------------------------------------------------------ refund


def test_arbiter_refunds_a_disputed_redemption_exactly(redemption, coin, fulfiller, arbiter, alice):
    disputed(redemption, fulfiller, alice)
    tx = redemption.refund(RID, {"from": arbiter})
    assert tx.events["Refunded"]["redemptionId"] == RID
    assert tx.events["Refunded"]["customer"] == alice
    assert tx.events["Refunded"]["amount"] == TEST_ITEM_PRICE
    assert coin.balanceOf(alice) == BALANCE_EACH
    assert coin.balanceOf(redemption) == 0
    assert redemption.redemptionOf(RID)[3] == REFUNDED


def test_refund_of_a_disputed_redemption_does_not_restock(redemption, fulfiller, arbiter, alice, item):
    disputed(redemption, fulfiller, alice)
    redemption.refund(RID, {"from": arbiter})
    assert redemption.itemOf(item)[1] == TEST_ITEM_STOCK - 1


def test_fulfiller_refunds_a_pending_redemption_and_restocks(redemption, coin, fulfiller, alice, item):
    tx = redemption.refund(RID, {"from": fulfiller})
    assert tx.events["Refunded"]["amount"] == TEST_ITEM_PRICE
    assert coin.balanceOf(alice) == BALANCE_EACH
    assert redemption.itemOf(item)[1] == TEST_ITEM_STOCK
    assert redemption.redemptionOf(RID)[3] == REFUNDED


def test_arbiter_refunds_a_pending_redemption_and_restocks(redemption, coin, arbiter, alice, item):
    redemption.refund(RID, {"from": arbiter})
    assert coin.balanceOf(alice) == BALANCE_EACH
    assert redemption.itemOf(item)[1] == TEST_ITEM_STOCK


def test_refund_frees_the_customers_unit_under_the_limit(redemption, cataloguer, fulfiller, alice, item):
    redemption.updateItem(item, make_item(stock=TEST_ITEM_STOCK - 1, per_customer_limit=1), {"from": cataloguer})
    with brownie.reverts(revert_pattern=error("CustomerLimitReached", item, 1)):
        redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    redemption.refund(RID, {"from": fulfiller})
    assert redemption.redeemedBy(item, alice) == 0
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert redemption.redemptionOf(tx.return_value)[3] == PENDING


def test_fulfiller_cannot_refund_a_disputed_redemption(redemption, coin, fulfiller, alice):
    disputed(redemption, fulfiller, alice)
    with brownie.reverts(revert_pattern=error("NotAuthorisedToRefund", RID, fulfiller)):
        redemption.refund(RID, {"from": fulfiller})
    assert coin.balanceOf(redemption) == TEST_ITEM_PRICE


@pytest.mark.parametrize("who", ["alice", "outsider", "cataloguer"])
def test_others_cannot_refund_a_pending_redemption(redemption, coin, request, who):
    caller = request.getfixturevalue(who)
    with brownie.reverts(revert_pattern=error("NotAuthorisedToRefund", RID, caller)):
        redemption.refund(RID, {"from": caller})
    assert coin.balanceOf(redemption) == TEST_ITEM_PRICE


def test_customer_cannot_refund_a_disputed_redemption(redemption, fulfiller, alice):
    disputed(redemption, fulfiller, alice)
    with brownie.reverts(revert_pattern=error("NotAuthorisedToRefund", RID, alice)):
        redemption.refund(RID, {"from": alice})


def test_arbiter_cannot_refund_a_fulfilled_undisputed_redemption(redemption, fulfiller, arbiter):
    fulfilled(redemption, fulfiller)
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, FULFILLED)):
        redemption.refund(RID, {"from": arbiter})


def test_refund_twice_reverts(redemption, arbiter):
    redemption.refund(RID, {"from": arbiter})
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, REFUNDED)):
        redemption.refund(RID, {"from": arbiter})


def test_refund_after_settle_reverts(redemption, chain, fulfiller, arbiter):
    fulfilled(redemption, fulfiller)
    chain.sleep(DISPUTE_WINDOW + 1)
    redemption.settle(RID, {"from": arbiter})
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, SETTLED)):
        redemption.refund(RID, {"from": arbiter})


# ------------------------------------------------------------------ rejectDispute


def test_reject_dispute_burns_the_escrow(redemption, coin, fulfiller, arbiter, alice):
    disputed(redemption, fulfiller, alice)
    supply = coin.totalSupply()
    redemption.rejectDispute(RID, {"from": arbiter})
    assert coin.totalSupply() == supply - TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == 0
    assert coin.balanceOf(alice) == BALANCE_EACH - TEST_ITEM_PRICE
    assert redemption.redemptionOf(RID)[3] == SETTLED


def test_reject_dispute_emits_settled_and_dispute_rejected(redemption, fulfiller, arbiter, alice):
    disputed(redemption, fulfiller, alice)
    tx = redemption.rejectDispute(RID, {"from": arbiter})
    assert tx.events["Settled"]["redemptionId"] == RID
    assert tx.events["Settled"]["amountBurned"] == TEST_ITEM_PRICE
    assert tx.events["DisputeRejected"]["redemptionId"] == RID
    assert tx.events["Transfer"]["value"] == TEST_ITEM_PRICE  # the burn


def test_reject_dispute_only_arbiter_role(redemption, fulfiller, alice):
    disputed(redemption, fulfiller, alice)
    role = redemption.ARBITER_ROLE()
    for caller in (fulfiller, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.rejectDispute(RID, {"from": caller})
    assert redemption.redemptionOf(RID)[3] == DISPUTED


def test_reject_dispute_of_an_undisputed_redemption_reverts(redemption, fulfiller, arbiter):
    fulfilled(redemption, fulfiller)
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, FULFILLED)):
        redemption.rejectDispute(RID, {"from": arbiter})


# ------------------------------------------------------------------ settle


def test_anyone_settles_after_the_window_and_the_escrow_burns(redemption, coin, chain, web3, fulfiller, outsider):
    closes_at = fulfilled(redemption, fulfiller) + DISPUTE_WINDOW
    supply = coin.totalSupply()
    next_block_at(chain, web3, closes_at + 1)
    tx = redemption.settle(RID, {"from": outsider})
    assert tx.events["Settled"]["redemptionId"] == RID
    assert tx.events["Settled"]["amountBurned"] == TEST_ITEM_PRICE
    assert coin.totalSupply() == supply - TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == 0
    assert redemption.redemptionOf(RID)[3] == SETTLED


def test_settle_at_the_last_second_of_the_window_reverts(redemption, chain, web3, fulfiller, outsider):
    closes_at = fulfilled(redemption, fulfiller) + DISPUTE_WINDOW
    next_block_at(chain, web3, closes_at)
    with brownie.reverts(revert_pattern=error("DisputeWindowOpen", RID, closes_at)):
        redemption.settle(RID, {"from": outsider})


def test_settle_right_after_fulfilment_reverts(redemption, fulfiller, outsider):
    closes_at = fulfilled(redemption, fulfiller) + DISPUTE_WINDOW
    with brownie.reverts(revert_pattern=error("DisputeWindowOpen", RID, closes_at)):
        redemption.settle(RID, {"from": outsider})


def test_settle_of_a_pending_redemption_reverts(redemption, outsider):
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, PENDING)):
        redemption.settle(RID, {"from": outsider})


def test_settle_of_a_disputed_redemption_reverts(redemption, chain, fulfiller, alice, outsider):
    disputed(redemption, fulfiller, alice)
    chain.sleep(DISPUTE_WINDOW + 1)
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, DISPUTED)):
        redemption.settle(RID, {"from": outsider})


def test_settle_twice_reverts(redemption, chain, fulfiller, outsider):
    fulfilled(redemption, fulfiller)
    chain.sleep(DISPUTE_WINDOW + 1)
    redemption.settle(RID, {"from": outsider})
    with brownie.reverts(revert_pattern=error("InvalidStatus", RID, SETTLED)):
        redemption.settle(RID, {"from": outsider})


# ------------------------------------------------------------------ unknown ids


@pytest.mark.parametrize("action", ["fulfil", "dispute", "refund", "rejectDispute", "settle"])
def test_actions_on_an_unknown_redemption_revert(redemption, admin, action):
    args = (1, COMMITMENT) if action == "fulfil" else (1,)
    with brownie.reverts(revert_pattern=error("RedemptionNotFound", 1)):
        getattr(redemption, action)(*args, {"from": admin})


def test_redemption_of_an_unknown_id_reverts(redemption):
    with brownie.reverts(revert_pattern=error("RedemptionNotFound", 1)):
        redemption.redemptionOf(1)
