"""relocate: the WALLET_LINKER_ROLE holder (the registry, after checking the holder's
signature) moves a holder's coins to the holder's new address."""

from __future__ import annotations

import brownie

COIN = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_linker_moves_the_balance_without_an_allowance(coin, mint, linker, alice, bob):
    mint({alice: 9 * COIN})
    tx = coin.relocate(alice, bob, 9 * COIN, {"from": linker})
    assert coin.balanceOf(alice) == 0
    assert coin.balanceOf(bob) == 9 * COIN
    assert coin.totalSupply() == 9 * COIN
    assert tx.events["Transfer"][0]["from"] == alice
    assert tx.events["Transfer"][0]["to"] == bob
    assert tx.events["Transfer"][0]["value"] == 9 * COIN


def test_linker_moves_part_of_a_balance(coin, mint, linker, alice, bob):
    mint({alice: 9 * COIN, bob: COIN})
    coin.relocate(alice, bob, 4 * COIN, {"from": linker})
    assert coin.balanceOf(alice) == 5 * COIN
    assert coin.balanceOf(bob) == 5 * COIN


def test_outsider_cannot_relocate(coin, mint, outsider, alice, unauthorized):
    mint({alice: 9 * COIN})
    with brownie.reverts(revert_pattern=unauthorized(outsider, coin.WALLET_LINKER_ROLE())):
        coin.relocate(alice, outsider, 9 * COIN, {"from": outsider})
    assert coin.balanceOf(alice) == 9 * COIN


def test_admin_cannot_relocate(coin, mint, admin, alice, unauthorized):
    mint({alice: 9 * COIN})
    with brownie.reverts(revert_pattern=unauthorized(admin, coin.WALLET_LINKER_ROLE())):
        coin.relocate(alice, admin, 9 * COIN, {"from": admin})


def test_protocol_role_alone_cannot_relocate(coin, mint, protocol, alice, unauthorized):
    mint({alice: 9 * COIN})
    with brownie.reverts(revert_pattern=unauthorized(protocol, coin.WALLET_LINKER_ROLE())):
        coin.relocate(alice, protocol, 9 * COIN, {"from": protocol})


def test_relocating_more_than_held_is_refused(coin, mint, linker, alice, bob, err):
    mint({alice: 2 * COIN})
    with brownie.reverts(revert_pattern=err("ERC20InsufficientBalance", alice, 2 * COIN, 3 * COIN)):
        coin.relocate(alice, bob, 3 * COIN, {"from": linker})


def test_relocating_to_the_zero_address_is_refused(coin, mint, linker, alice, err):
    mint({alice: 2 * COIN})
    with brownie.reverts(revert_pattern=err("ERC20InvalidReceiver", ZERO)):
        coin.relocate(alice, ZERO, 2 * COIN, {"from": linker})
    assert coin.totalSupply() == 2 * COIN


def test_linker_without_protocol_role_is_restricted(coin, mint, admin, accounts, alice, bob, err):
    """relocate relies on its caller also holding PROTOCOL_ROLE (as deploy() gives the
    registry); WALLET_LINKER_ROLE alone does not pass the transfer policy."""
    bare_linker = accounts[8]
    coin.grantRole(coin.WALLET_LINKER_ROLE(), bare_linker, {"from": admin})
    mint({alice: 2 * COIN})
    with brownie.reverts(revert_pattern=err("TransferRestricted", alice, bob, bare_linker)):
        coin.relocate(alice, bob, 2 * COIN, {"from": bare_linker})
