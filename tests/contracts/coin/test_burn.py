"""burn: the BURNER_ROLE holder (the redemption contract) destroys coins it holds."""

from __future__ import annotations

import brownie

COIN = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_burner_burns_its_own_balance(coin, mint, burner):
    mint({burner: 10 * COIN})
    tx = coin.burn(4 * COIN, {"from": burner})
    assert coin.balanceOf(burner) == 6 * COIN
    assert coin.totalSupply() == 6 * COIN
    assert tx.events["Transfer"][0]["from"] == burner
    assert tx.events["Transfer"][0]["to"] == ZERO
    assert tx.events["Transfer"][0]["value"] == 4 * COIN


def test_burn_leaves_other_holders_untouched(coin, mint, burner, alice):
    mint({burner: 5 * COIN, alice: 8 * COIN})
    coin.burn(5 * COIN, {"from": burner})
    assert coin.balanceOf(burner) == 0
    assert coin.balanceOf(alice) == 8 * COIN
    assert coin.totalSupply() == 8 * COIN


def test_holder_without_burner_role_cannot_burn(coin, mint, alice, unauthorized):
    mint({alice: 5 * COIN})
    with brownie.reverts(revert_pattern=unauthorized(alice, coin.BURNER_ROLE())):
        coin.burn(COIN, {"from": alice})
    assert coin.balanceOf(alice) == 5 * COIN


def test_admin_cannot_burn(coin, mint, admin, unauthorized):
    mint({admin: 5 * COIN})
    with brownie.reverts(revert_pattern=unauthorized(admin, coin.BURNER_ROLE())):
        coin.burn(COIN, {"from": admin})


def test_burning_more_than_held_is_refused(coin, mint, burner, err):
    mint({burner: 3 * COIN})
    with brownie.reverts(revert_pattern=err("ERC20InsufficientBalance", burner, 3 * COIN, 3 * COIN + 1)):
        coin.burn(3 * COIN + 1, {"from": burner})
    assert coin.totalSupply() == 3 * COIN
