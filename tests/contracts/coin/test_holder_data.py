"""Holder data: the 160 bits the minter keeps beside each balance, in the same storage slot.

The balance lives in the slot's low 96 bits, so these tests pin what makes sharing safe: no
balance change reaches the data bits (the supply, and so every balance, stays within uint96),
and only the minter writes the data.
"""

from __future__ import annotations

import brownie

COIN = 10**18
ZERO = "0x0000000000000000000000000000000000000000"
MAX_DATA = 2**160 - 1
MAX_SUPPLY = 2**96 - 1


def test_mint_with_data_credits_the_balance_and_sets_the_data(coin, minter, alice, bob):
    tx = coin.mintBatchWithData([alice, bob], [3 * COIN, 0], [7, MAX_DATA], {"from": minter})
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (3 * COIN, 7)
    assert (coin.balanceOf(bob), coin.holderData(bob)) == (0, MAX_DATA)
    assert coin.totalSupply() == 3 * COIN
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    assert transfers == [(ZERO, alice, 3 * COIN), (ZERO, bob, 0)]


def test_new_data_replaces_the_old_and_the_balance_adds_up(coin, minter, alice):
    coin.mintBatchWithData([alice], [2 * COIN], [MAX_DATA], {"from": minter})
    coin.mintBatchWithData([alice], [5 * COIN], [1], {"from": minter})
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (7 * COIN, 1)


def test_a_holder_listed_twice_keeps_the_later_data_and_the_sum(coin, minter, alice):
    coin.mintBatchWithData([alice, alice], [2 * COIN, 5 * COIN], [11, 22], {"from": minter})
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (7 * COIN, 22)
    assert coin.totalSupply() == 7 * COIN


def test_data_survives_mint_transfer_relocation_and_burn(coin, minter, linker, burner, protocol, alice, bob):
    coin.mintBatchWithData([alice, burner, protocol], [10 * COIN] * 3, [MAX_DATA, 5, 6], {"from": minter})
    coin.mintBatch([alice], [COIN], {"from": minter})
    coin.relocate(alice, bob, 4 * COIN, {"from": linker})
    coin.transfer(alice, COIN, {"from": protocol})
    coin.burn(3 * COIN, {"from": burner})
    assert [coin.holderData(h) for h in (alice, bob, burner, protocol)] == [MAX_DATA, 0, 5, 6]
    assert [coin.balanceOf(h) for h in (alice, bob, burner, protocol)] == [8 * COIN, 4 * COIN, 7 * COIN, 9 * COIN]


def test_emptying_a_balance_keeps_the_data(coin, minter, linker, alice, bob):
    coin.mintBatchWithData([alice], [COIN], [MAX_DATA], {"from": minter})
    coin.relocate(alice, bob, COIN, {"from": linker})
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (0, MAX_DATA)


def test_set_holder_data_leaves_the_balance(coin, minter, alice):
    coin.mintBatchWithData([alice], [4 * COIN], [9], {"from": minter})
    coin.setHolderData(alice, MAX_DATA, {"from": minter})
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (4 * COIN, MAX_DATA)
    assert coin.totalSupply() == 4 * COIN


def test_holder_data_of_answers_for_many_holders_in_order(coin, minter, alice, bob, carol):
    coin.mintBatchWithData([carol, alice], [COIN, COIN], [3, 1], {"from": minter})
    assert coin.holderDataOf([alice, bob, carol, alice]) == [1, 0, 3, 1]
    assert coin.holderDataOf([]) == []


def test_supply_may_reach_the_limit_and_balances_stay_clear_of_the_data(coin, minter, linker, alice, bob):
    coin.mintBatchWithData([alice, bob], [MAX_SUPPLY - 1, 0], [MAX_DATA, MAX_DATA], {"from": minter})
    coin.mintBatch([bob], [1], {"from": minter})
    coin.relocate(bob, alice, 1, {"from": linker})
    assert coin.totalSupply() == MAX_SUPPLY == coin.MAX_SUPPLY()
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (MAX_SUPPLY, MAX_DATA)
    assert (coin.balanceOf(bob), coin.holderData(bob)) == (0, MAX_DATA)


def test_no_mint_passes_the_supply_limit(coin, minter, alice, bob, err):
    coin.mintBatchWithData([alice], [MAX_SUPPLY], [1], {"from": minter})
    with brownie.reverts(revert_pattern=err("SupplyLimitExceeded", MAX_SUPPLY + 1, MAX_SUPPLY)):
        coin.mintBatch([bob], [1], {"from": minter})
    with brownie.reverts(revert_pattern=err("SupplyLimitExceeded", MAX_SUPPLY + 1, MAX_SUPPLY)):
        coin.mintBatchWithData([bob], [1], [2], {"from": minter})
    assert (coin.balanceOf(bob), coin.holderData(bob), coin.holderData(alice)) == (0, 0, 1)


def test_a_huge_amount_later_in_a_batch_reverts_the_whole_batch(coin, minter, alice, bob, err):
    with brownie.reverts(revert_pattern=err("SupplyLimitExceeded", COIN + MAX_SUPPLY, MAX_SUPPLY)):
        coin.mintBatchWithData([alice, bob], [COIN, MAX_SUPPLY], [1, 2], {"from": minter})
    assert coin.totalSupply() == 0
    assert coin.holderData(alice) == 0


def test_an_amount_past_uint256_is_a_panic_not_a_wrap(coin, minter, alice, bob):
    coin.mintBatchWithData([alice], [1], [1], {"from": minter})
    with brownie.reverts(revert_pattern=r"Panic: 0x11|.*overflow.*"):
        coin.mintBatchWithData([bob], [2**256 - 1], [2], {"from": minter})
    assert coin.totalSupply() == 1


def test_mint_with_data_to_the_zero_address_is_refused(coin, minter, alice, err):
    with brownie.reverts(revert_pattern=err("ERC20InvalidReceiver", ZERO)):
        coin.mintBatchWithData([alice, ZERO], [COIN, COIN], [1, 1], {"from": minter})


def test_mismatched_lengths_are_refused(coin, minter, alice, bob, err):
    with brownie.reverts(revert_pattern=err("LengthMismatch", 2, 1)):
        coin.mintBatchWithData([alice, bob], [COIN], [1, 2], {"from": minter})
    with brownie.reverts(revert_pattern=err("LengthMismatch", 2, 3)):
        coin.mintBatchWithData([alice, bob], [COIN, COIN], [1, 2, 3], {"from": minter})


def test_only_the_minter_writes_holder_data(coin, admin, linker, outsider, alice, unauthorized):
    for account in (admin, linker, outsider):
        with brownie.reverts(revert_pattern=unauthorized(account, coin.MINTER_ROLE())):
            coin.mintBatchWithData([alice], [COIN], [1], {"from": account})
        with brownie.reverts(revert_pattern=unauthorized(account, coin.MINTER_ROLE())):
            coin.setHolderData(alice, 1, {"from": account})
    assert coin.holderData(alice) == 0


def test_nothing_is_written_while_paused(coin, minter, admin, alice, err):
    coin.pause({"from": admin})
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.mintBatchWithData([alice], [COIN], [1], {"from": minter})
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.setHolderData(alice, 1, {"from": minter})
    assert (coin.balanceOf(alice), coin.holderData(alice)) == (0, 0)
