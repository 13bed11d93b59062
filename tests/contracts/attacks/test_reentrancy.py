"""Reentrancy into TierRedemption: nothing it calls can call back (its coin is a plain
OpenZeppelin ERC20 with no hooks), and even a coin that does call back finds every state
change already made (checks-effects-interactions): no unit redeemed beyond stock, no escrow
refunded twice.

These tests deploy a TierRedemption over contracts/test/ReentrantToken.sol, a hostile token
that makes one call of the attacker's choice in the middle of each transfer.
"""

import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.contracts.redemption.helpers import BRAND, REFUNDED, make_item, role_id

COIN = 10**18
PRICE = 10 * COIN
ITEM = 0
ZERO = "0x" + "00" * 20


def custom_error(signature, *args):
    """The revert data of a custom error: its selector and ABI-encoded arguments."""
    types = signature[signature.index("(") + 1 : -1].split(",")
    return keccak(text=signature)[:4] + encode(types, list(args))


@pytest.fixture(scope="module")
def token(ReentrantToken, admin):
    return ReentrantToken.deploy({"from": admin})


@pytest.fixture(scope="module")
def shop(TierRedemption, token, registry, admin, alice, config):
    """A TierRedemption paid in the hostile token, with one item of one unit in stock."""
    args = [admin, token, registry, config.price_notice_period, config.dispute_window, config.admin_transfer_delay]
    if len(TierRedemption.deploy.abi["inputs"]) == len(args) + 1:
        args.append(ZERO)  # the ERC-2771 trusted forwarder: none
    shop = TierRedemption.deploy(*args, {"from": admin})
    for role in ("CATALOG_ROLE", "FULFILLER_ROLE", "ARBITER_ROLE"):
        shop.grantRole(role_id(shop, role), admin, {"from": admin})
    shop.addItem(BRAND, make_item(price=PRICE, stock=1), {"from": admin})
    token.mint(alice, 100 * COIN, {"from": admin})
    token.approve(shop, 2**256 - 1, {"from": alice})
    return shop


def test_a_redemption_reentered_from_the_payment_cannot_take_a_unit_beyond_stock(shop, token, alice, admin):
    token.mint(token, 100 * COIN, {"from": admin})  # the token redeems for itself from inside the pull
    token.arm(shop, shop.redeem.encode_input(ITEM, PRICE), shop, {"from": admin})
    shop.redeem(ITEM, PRICE, {"from": alice})
    assert token.reentered()
    assert not token.innerSucceeded()
    assert bytes(token.innerResult()) == custom_error("InsufficientStock(uint256,uint256)", ITEM, 0)
    assert shop.itemOf(ITEM)[1] == 0
    assert shop.redemptionCount() == 1
    assert token.balanceOf(shop) == PRICE


def test_a_refund_reentered_from_the_payout_cannot_refund_twice(shop, token, alice, admin):
    shop.redeem(ITEM, PRICE, {"from": alice})
    # The worst case: the contract receiving the payout is itself an arbiter.
    shop.grantRole(shop.ARBITER_ROLE(), token, {"from": admin})
    token.arm(shop, shop.refund.encode_input(0), shop, {"from": admin})
    shop.refund(0, {"from": admin})
    assert token.reentered()
    assert not token.innerSucceeded()
    assert bytes(token.innerResult()) == custom_error("InvalidStatus(uint256,uint8)", 0, REFUNDED)
    assert token.balanceOf(alice) == 100 * COIN  # paid back once, exactly
    assert token.balanceOf(shop) == 0
    assert shop.redemptionOf(0)[3] == REFUNDED
