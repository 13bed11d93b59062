"""The transfer policy: restricted by default (only PROTOCOL_ROLE moves coins), opened and
closed again by the admin."""

from __future__ import annotations

import brownie

COIN = 10**18


def test_customer_cannot_transfer_while_restricted(coin, mint, alice, bob, err):
    mint({alice: 5 * COIN})
    with brownie.reverts(revert_pattern=err("TransferRestricted", alice, bob, alice)):
        coin.transfer(bob, COIN, {"from": alice})
    assert coin.balanceOf(alice) == 5 * COIN


def test_customer_cannot_transfer_from_while_restricted(coin, mint, alice, bob, carol, err):
    mint({alice: 5 * COIN})
    coin.approve(bob, 5 * COIN, {"from": alice})
    with brownie.reverts(revert_pattern=err("TransferRestricted", alice, carol, bob)):
        coin.transferFrom(alice, carol, COIN, {"from": bob})
    assert coin.allowance(alice, bob) == 5 * COIN


def test_customer_cannot_send_coins_to_a_protocol_contract(coin, mint, alice, redemption, err):
    mint({alice: 5 * COIN})
    with brownie.reverts(revert_pattern=err("TransferRestricted", alice, redemption, alice)):
        coin.transfer(redemption, COIN, {"from": alice})
    assert coin.balanceOf(redemption) == 0


def test_approve_works_while_restricted(coin, alice, protocol):
    tx = coin.approve(protocol, 4 * COIN, {"from": alice})
    assert coin.allowance(alice, protocol) == 4 * COIN
    assert tx.events["Approval"][0]["owner"] == alice
    assert tx.events["Approval"][0]["spender"] == protocol
    assert tx.events["Approval"][0]["value"] == 4 * COIN


def test_protocol_role_pulls_coins_with_an_allowance(coin, mint, alice, protocol):
    mint({alice: 5 * COIN})
    coin.approve(protocol, 3 * COIN, {"from": alice})
    tx = coin.transferFrom(alice, protocol, 2 * COIN, {"from": protocol})
    assert coin.balanceOf(alice) == 3 * COIN
    assert coin.balanceOf(protocol) == 2 * COIN
    assert coin.allowance(alice, protocol) == COIN
    assert tx.events["Transfer"][0]["from"] == alice
    assert tx.events["Transfer"][0]["to"] == protocol


def test_protocol_role_still_needs_an_allowance(coin, mint, alice, protocol, err):
    mint({alice: 5 * COIN})
    with brownie.reverts(revert_pattern=err("ERC20InsufficientAllowance", protocol, 0, COIN)):
        coin.transferFrom(alice, protocol, COIN, {"from": protocol})


def test_protocol_role_pays_out_its_own_coins(coin, mint, alice, protocol):
    mint({protocol: 5 * COIN})
    coin.transfer(alice, 2 * COIN, {"from": protocol})
    assert coin.balanceOf(protocol) == 3 * COIN
    assert coin.balanceOf(alice) == 2 * COIN


def test_only_admin_sets_the_transfer_policy(coin, outsider, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(outsider, coin.DEFAULT_ADMIN_ROLE())):
        coin.setTransfersOpen(True, {"from": outsider})
    assert coin.transfersOpen() is False


def test_protocol_role_cannot_set_the_transfer_policy(coin, protocol, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(protocol, coin.DEFAULT_ADMIN_ROLE())):
        coin.setTransfersOpen(True, {"from": protocol})


def test_opening_emits_policy_changed(coin, admin):
    tx = coin.setTransfersOpen(True, {"from": admin})
    assert coin.transfersOpen() is True
    assert tx.events["TransferPolicyChanged"][0]["open"] is True


def test_open_policy_lets_customers_transfer(coin, mint, admin, alice, bob):
    mint({alice: 5 * COIN})
    coin.setTransfersOpen(True, {"from": admin})
    coin.transfer(bob, 2 * COIN, {"from": alice})
    assert coin.balanceOf(alice) == 3 * COIN
    assert coin.balanceOf(bob) == 2 * COIN


def test_open_policy_lets_customers_transfer_from(coin, mint, admin, alice, bob, carol):
    mint({alice: 5 * COIN})
    coin.setTransfersOpen(True, {"from": admin})
    coin.approve(bob, 2 * COIN, {"from": alice})
    coin.transferFrom(alice, carol, 2 * COIN, {"from": bob})
    assert coin.balanceOf(carol) == 2 * COIN
    assert coin.allowance(alice, bob) == 0


def test_closing_again_restricts_transfers(coin, mint, admin, alice, bob, err):
    mint({alice: 5 * COIN})
    coin.setTransfersOpen(True, {"from": admin})
    tx = coin.setTransfersOpen(False, {"from": admin})
    assert tx.events["TransferPolicyChanged"][0]["open"] is False
    assert coin.transfersOpen() is False
    with brownie.reverts(revert_pattern=err("TransferRestricted", alice, bob, alice)):
        coin.transfer(bob, COIN, {"from": alice})
