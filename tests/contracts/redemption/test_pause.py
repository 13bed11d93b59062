"""pause (PAUSER_ROLE) and unpause (admin): while paused, no redemption moves."""

import brownie
import pytest
from eth_utils import keccak

from .helpers import FULFILLED, TEST_ITEM_ID, TEST_ITEM_PRICE, error

COMMITMENT = keccak(text="salt|CODE")
DISPUTE_WINDOW = 1209600


@pytest.fixture(scope="module", autouse=True)
def redemptions(redemption, fulfiller, item, funded, alice, bob):
    """0: alice's, Pending; 1: bob's, Fulfilled; 2: alice's, Disputed."""
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": bob})
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    redemption.fulfil(1, COMMITMENT, {"from": fulfiller})
    redemption.fulfil(2, COMMITMENT, {"from": fulfiller})
    redemption.dispute(2, {"from": alice})


def test_pauser_pauses(redemption, pauser):
    tx = redemption.pause({"from": pauser})
    assert redemption.paused()
    assert tx.events["Paused"]["account"] == pauser


def test_pause_only_pauser_role(redemption, admin, arbiter, alice):
    role = redemption.PAUSER_ROLE()
    redemption.revokeRole(role, admin, {"from": admin})
    for caller in (admin, arbiter, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.pause({"from": caller})
    assert not redemption.paused()


def test_admin_unpauses(redemption, admin, pauser):
    redemption.pause({"from": pauser})
    tx = redemption.unpause({"from": admin})
    assert not redemption.paused()
    assert tx.events["Unpaused"]["account"] == admin


def test_unpause_only_admin(redemption, pauser, alice):
    redemption.pause({"from": pauser})
    role = redemption.DEFAULT_ADMIN_ROLE()
    for caller in (pauser, alice):
        with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", caller, role)):
            redemption.unpause({"from": caller})
    assert redemption.paused()


def test_pause_twice_reverts(redemption, pauser):
    redemption.pause({"from": pauser})
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        redemption.pause({"from": pauser})


def test_unpause_when_not_paused_reverts(redemption, admin):
    with brownie.reverts(revert_pattern=error("ExpectedPause")):
        redemption.unpause({"from": admin})


@pytest.mark.parametrize(
    "action, args, sender",
    [
        pytest.param("redeem", (TEST_ITEM_ID, TEST_ITEM_PRICE), "alice", id="redeem"),
        pytest.param("redeemWithPermit", (TEST_ITEM_ID, TEST_ITEM_PRICE, 0, 27, b"\x00" * 32, b"\x00" * 32), "alice",
                     id="redeemWithPermit"),
        pytest.param("fulfil", (0, COMMITMENT), "fulfiller", id="fulfil"),
        pytest.param("dispute", (1,), "bob", id="dispute"),
        pytest.param("refund", (0,), "fulfiller", id="refund-pending"),
        pytest.param("refund", (2,), "arbiter", id="refund-disputed"),
        pytest.param("rejectDispute", (2,), "arbiter", id="rejectDispute"),
    ],
)
def test_redemption_actions_revert_while_paused(redemption, coin, pauser, request, action, args, sender):
    redemption.pause({"from": pauser})
    escrow = coin.balanceOf(redemption)
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        getattr(redemption, action)(*args, {"from": request.getfixturevalue(sender)})
    assert coin.balanceOf(redemption) == escrow
    assert redemption.redemptionCount() == 3


def test_settle_reverts_while_paused(redemption, chain, pauser, outsider):
    chain.sleep(DISPUTE_WINDOW + 1)
    redemption.pause({"from": pauser})
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        redemption.settle(1, {"from": outsider})
    assert redemption.redemptionOf(1)[3] == FULFILLED


def test_redeem_works_again_after_unpause(redemption, admin, pauser, item, alice):
    redemption.pause({"from": pauser})
    redemption.unpause({"from": admin})
    tx = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    assert tx.return_value == 3


def test_catalog_and_tiers_can_be_managed_while_paused(redemption, admin, pauser, item):
    redemption.pause({"from": pauser})
    redemption.announcePrice(item, 2 * TEST_ITEM_PRICE, {"from": admin})
    redemption.setTiers([0], [10_000], {"from": admin})
    assert redemption.pendingPriceChange(item)[0] == 2 * TEST_ITEM_PRICE
    assert redemption.tierSchedule() == ([0], [10_000])
