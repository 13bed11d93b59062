"""Replays of one event under another reward, and amounts at the integer limits: refused or
skipped as a whole, never half applied."""

import brownie
from eth_utils import keccak

from oracle.kinds import FeedbackKind
from tests.contracts.batch_outcomes import outcomes, skipped
from tests.contracts.redemption.helpers import make_item
from tests.contracts.registry.helpers import ALREADY_RECORDED, BRAND, UINT96_MAX, error

COIN = 10**18


def test_the_same_event_again_with_a_bigger_reward_is_already_recorded(batches, registry, coin, alice):
    """The same event id and seq, re-signed as a referral (25) instead of a survey (5)."""
    first = batches.record(alice, FeedbackKind.SURVEY_RESPONSE)
    batches.submit(batches.batch([first]))
    balance = coin.balanceOf(alice)
    again = batches.record(alice, FeedbackKind.REFERRAL, seq=first.seq, event_id=first.event_id)
    tx = batches.submit(batches.batch([again]))
    assert outcomes(tx) == [skipped(ALREADY_RECORDED)]
    assert tx.events["BatchRecorded"]["minted"] == 0
    assert "Transfer" not in tx.events
    assert coin.balanceOf(alice) == balance
    assert registry.lifetimeEarned(alice) == 5 * COIN


def test_a_mint_batch_overflowing_the_supply_reverts_whole(coin, admin, accounts, alice, bob):
    minter = accounts[7]
    coin.grantRole(coin.MINTER_ROLE(), minter, {"from": admin})
    # Past the coin's uint96 supply limit (balances share their slot with holder data)...
    with brownie.reverts(revert_pattern=error("SupplyLimitExceeded", UINT96_MAX + 1, UINT96_MAX)):
        coin.mintBatch([alice, bob], [UINT96_MAX, 1], {"from": minter})
    assert coin.balanceOf(alice) == coin.balanceOf(bob) == coin.totalSupply() == 0
    # ...and past uint256 itself: a checked-arithmetic panic, not a wrap to a small supply.
    with brownie.reverts(revert_pattern=r"Panic: 0x11|.*overflow.*"):
        coin.mintBatch([alice, bob], [1, 2**256 - 1], {"from": minter})
    assert coin.balanceOf(alice) == coin.balanceOf(bob) == coin.totalSupply() == 0


def test_a_redemption_priced_at_the_uint96_limit_fails_without_partial_state(redemption, coin, batches, admin, alice):
    item = redemption.addItem(BRAND, make_item(price=UINT96_MAX, stock=3), {"from": admin}).events["ItemAdded"]["itemId"]
    batches.reward([alice])
    coin.approve(redemption, 2**256 - 1, {"from": alice})
    balance = coin.balanceOf(alice)
    with brownie.reverts(revert_pattern=error("ERC20InsufficientBalance", alice, balance, UINT96_MAX)):
        redemption.redeem(item, UINT96_MAX, {"from": alice})
    assert redemption.itemOf(item)[1] == 3
    assert redemption.redeemedBy(item, alice) == 0
    assert redemption.redemptionCount() == 0
    assert coin.balanceOf(alice) == balance


def test_limits_beyond_uint256_reach_are_refused_by_name(registry, redemption, admin):
    with brownie.reverts(revert_pattern=error("InvalidQuorum", 2**256 - 1, 1)):
        registry.setQuorum(BRAND, 2**256 - 1, {"from": admin})
    with brownie.reverts(revert_pattern=error("PriceTooLarge", 2**256 - 1, UINT96_MAX)):
        redemption.announcePrice(0, 2**256 - 1, {"from": admin})
    with brownie.reverts(revert_pattern=error("AmountTooLarge", 2**256 - 1, 2**24 - 1)):
        registry.setCustomerCap(2**256 - 1, {"from": admin})
    assert registry.brandOf(BRAND)["quorum"] == 1


def test_the_last_seq_of_the_bitmap_is_recorded_once(batches, registry, coin, alice):
    last = 2**64 - 1
    record = batches.record(alice, seq=last, event_id=keccak(text="the last event"))
    batches.submit(batches.batch([record]))
    tx = batches.submit(batches.batch([record]))
    assert outcomes(tx) == [skipped(ALREADY_RECORDED)]
    assert registry.isRecorded(BRAND, last)
