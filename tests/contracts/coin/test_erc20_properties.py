"""Plain ERC-20 properties that hold under ServiceCoin's rules (OpenZeppelin's accounting)."""

from __future__ import annotations

import brownie
import pytest

COIN = 10**18
MAX_UINT = 2**256 - 1
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def open_transfers(coin, admin):
    coin.setTransfersOpen(True, {"from": admin})


def test_zero_address_holds_nothing(coin, mint, burner, alice):
    mint({alice: 5 * COIN, burner: 5 * COIN})
    coin.burn(5 * COIN, {"from": burner})
    assert coin.balanceOf(ZERO) == 0
    assert coin.totalSupply() == 5 * COIN


def test_transfer_to_the_zero_address_is_refused(coin, mint, alice, open_transfers, err):
    mint({alice: 5 * COIN})
    with brownie.reverts(revert_pattern=err("ERC20InvalidReceiver", ZERO)):
        coin.transfer(ZERO, COIN, {"from": alice})
    assert coin.totalSupply() == 5 * COIN


def test_transfer_above_balance_is_refused(coin, mint, alice, bob, open_transfers, err):
    mint({alice: 5 * COIN})
    with brownie.reverts(revert_pattern=err("ERC20InsufficientBalance", alice, 5 * COIN, 6 * COIN)):
        coin.transfer(bob, 6 * COIN, {"from": alice})


def test_self_transfer_keeps_balance_and_supply(coin, mint, alice, open_transfers):
    mint({alice: 5 * COIN})
    tx = coin.transfer(alice, 3 * COIN, {"from": alice})
    assert coin.balanceOf(alice) == 5 * COIN
    assert coin.totalSupply() == 5 * COIN
    assert tx.events["Transfer"][0]["from"] == alice
    assert tx.events["Transfer"][0]["to"] == alice
    assert tx.events["Transfer"][0]["value"] == 3 * COIN


def test_zero_amount_transfer_keeps_accounting(coin, mint, alice, bob, open_transfers):
    mint({alice: 5 * COIN})
    tx = coin.transfer(bob, 0, {"from": alice})
    assert coin.balanceOf(alice) == 5 * COIN
    assert coin.balanceOf(bob) == 0
    assert coin.totalSupply() == 5 * COIN
    assert tx.events["Transfer"][0]["value"] == 0


def test_approve_overwrites_the_allowance(coin, alice, bob):
    coin.approve(bob, 5 * COIN, {"from": alice})
    tx = coin.approve(bob, 2 * COIN, {"from": alice})
    assert coin.allowance(alice, bob) == 2 * COIN
    assert tx.events["Approval"][0]["value"] == 2 * COIN


def test_transfer_from_spends_the_allowance(coin, mint, alice, bob, carol, open_transfers):
    mint({alice: 5 * COIN})
    coin.approve(bob, 4 * COIN, {"from": alice})
    coin.transferFrom(alice, carol, 3 * COIN, {"from": bob})
    assert coin.allowance(alice, bob) == COIN
    assert coin.balanceOf(alice) == 2 * COIN
    assert coin.balanceOf(carol) == 3 * COIN


def test_transfer_from_above_the_allowance_is_refused(coin, mint, alice, bob, carol, open_transfers, err):
    mint({alice: 5 * COIN})
    coin.approve(bob, 2 * COIN, {"from": alice})
    with brownie.reverts(revert_pattern=err("ERC20InsufficientAllowance", bob, 2 * COIN, 3 * COIN)):
        coin.transferFrom(alice, carol, 3 * COIN, {"from": bob})
    assert coin.allowance(alice, bob) == 2 * COIN


def test_infinite_allowance_is_not_spent(coin, mint, alice, bob, carol, open_transfers):
    mint({alice: 5 * COIN})
    coin.approve(bob, MAX_UINT, {"from": alice})
    coin.transferFrom(alice, carol, 3 * COIN, {"from": bob})
    assert coin.allowance(alice, bob) == MAX_UINT


def test_balances_sum_to_total_supply_after_a_sequence(
    coin, admin, mint, burner, protocol, linker, alice, bob, carol
):
    holders = [alice, bob, carol, burner, protocol, linker, admin]

    def assert_supply_is_sum():
        assert sum(coin.balanceOf(h) for h in holders) == coin.totalSupply()

    mint({alice: 50 * COIN, bob: 20 * COIN, burner: 10 * COIN})
    assert_supply_is_sum()
    coin.approve(protocol, 15 * COIN, {"from": alice})
    coin.transferFrom(alice, protocol, 15 * COIN, {"from": protocol})
    assert_supply_is_sum()
    coin.transfer(carol, 5 * COIN, {"from": protocol})
    assert_supply_is_sum()
    coin.relocate(bob, carol, 20 * COIN, {"from": linker})
    assert_supply_is_sum()
    coin.burn(7 * COIN, {"from": burner})
    assert_supply_is_sum()
    coin.setTransfersOpen(True, {"from": admin})
    coin.transfer(bob, 9 * COIN, {"from": carol})
    coin.transfer(alice, 1, {"from": bob})
    assert_supply_is_sum()
    assert coin.totalSupply() == 73 * COIN
    assert [coin.balanceOf(h) for h in holders] == [
        35 * COIN + 1, 9 * COIN - 1, 16 * COIN, 3 * COIN, 10 * COIN, 0, 0,
    ]
