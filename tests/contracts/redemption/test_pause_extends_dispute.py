"""A pause never costs a customer the right to dispute: time spent paused after fulfilment is
added to the dispute window (and so also delays settlement)."""

import brownie
import pytest
from eth_utils import keccak

from .helpers import DISPUTED, TEST_ITEM_PRICE, error

DISPUTE_WINDOW = 1209600  # two weeks, from scripts/config/development.yaml
RID = 0


@pytest.fixture(scope="module", autouse=True)
def fulfilled_at(redemption, item, funded, alice, fulfiller):
    """alice's redemption 0, fulfilled; returns its fulfilledAt."""
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice})
    return redemption.fulfil(RID, keccak(text="code"), {"from": fulfiller}).timestamp


def pause_for(redemption, chain, pauser, admin, seconds):
    """Pauses, lets `seconds` pass, unpauses; returns the seconds actually spent paused."""
    paused_at = redemption.pause({"from": pauser}).timestamp
    chain.sleep(seconds)
    return redemption.unpause({"from": admin}).timestamp - paused_at


def test_window_without_pause_closes_after_the_dispute_window(redemption, fulfilled_at):
    assert redemption.disputeClosesAt(RID) == fulfilled_at + DISPUTE_WINDOW


def test_window_is_extended_by_the_time_spent_paused(redemption, chain, pauser, admin, fulfilled_at):
    paused = pause_for(redemption, chain, pauser, admin, 3 * 86400)
    assert redemption.disputeClosesAt(RID) == fulfilled_at + DISPUTE_WINDOW + paused


def test_customer_can_dispute_after_a_pause_that_outlasted_the_window(redemption, chain, pauser, admin, alice):
    pause_for(redemption, chain, pauser, admin, DISPUTE_WINDOW + 86400)
    tx = redemption.dispute(RID, {"from": alice})
    assert tx.events["Disputed"]["redemptionId"] == RID
    assert redemption.redemptionOf(RID)[3] == DISPUTED


def test_settle_waits_for_the_extended_window(redemption, chain, pauser, admin, outsider):
    pause_for(redemption, chain, pauser, admin, DISPUTE_WINDOW + 86400)
    closes_at = redemption.disputeClosesAt(RID)
    with brownie.reverts(revert_pattern=error("DisputeWindowOpen", RID, closes_at)):
        redemption.settle(RID, {"from": outsider})


def test_a_pause_before_fulfilment_does_not_extend_the_window(redemption, chain, pauser, admin, item, bob,
                                                              fulfiller):
    pause_for(redemption, chain, pauser, admin, 86400)
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": bob})
    fulfilled = redemption.fulfil(1, keccak(text="code-2"), {"from": fulfiller}).timestamp
    assert redemption.disputeClosesAt(1) == fulfilled + DISPUTE_WINDOW


def test_dispute_close_of_an_unfulfilled_redemption_is_refused(redemption, item, bob):
    redemption.redeem(item, TEST_ITEM_PRICE, {"from": bob})
    with brownie.reverts(revert_pattern=error("InvalidStatus", 1, 1)):
        redemption.disputeClosesAt(1)
