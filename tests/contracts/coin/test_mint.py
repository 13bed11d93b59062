"""mintBatch: role-gated minting to many customers at once."""

from __future__ import annotations

import brownie

COIN = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_minter_credits_each_recipient_and_the_supply(coin, minter, alice, bob):
    coin.mintBatch([alice, bob], [3 * COIN, 7 * COIN], {"from": minter})
    assert coin.balanceOf(alice) == 3 * COIN
    assert coin.balanceOf(bob) == 7 * COIN
    assert coin.totalSupply() == 10 * COIN


def test_mint_emits_one_transfer_per_recipient(coin, minter, alice, bob, carol):
    tx = coin.mintBatch([alice, bob, carol], [1 * COIN, 2 * COIN, 3 * COIN], {"from": minter})
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    assert transfers == [(ZERO, alice, 1 * COIN), (ZERO, bob, 2 * COIN), (ZERO, carol, 3 * COIN)]


def test_repeated_recipient_receives_the_sum(coin, minter, alice):
    tx = coin.mintBatch([alice, alice], [2 * COIN, 5 * COIN], {"from": minter})
    assert len(tx.events["Transfer"]) == 2
    assert coin.balanceOf(alice) == 7 * COIN
    assert coin.totalSupply() == 7 * COIN


def test_empty_batch_mints_nothing(coin, minter):
    tx = coin.mintBatch([], [], {"from": minter})
    assert "Transfer" not in tx.events
    assert coin.totalSupply() == 0


def test_outsider_cannot_mint(coin, outsider, alice, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(outsider, coin.MINTER_ROLE())):
        coin.mintBatch([alice], [COIN], {"from": outsider})
    assert coin.totalSupply() == 0


def test_admin_cannot_mint(coin, admin, alice, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(admin, coin.MINTER_ROLE())):
        coin.mintBatch([alice], [COIN], {"from": admin})
    assert coin.totalSupply() == 0


def test_more_recipients_than_amounts_is_a_length_mismatch(coin, minter, alice, bob, err):
    with brownie.reverts(revert_pattern=err("LengthMismatch", 2, 1)):
        coin.mintBatch([alice, bob], [COIN], {"from": minter})


def test_more_amounts_than_recipients_is_a_length_mismatch(coin, minter, alice, err):
    with brownie.reverts(revert_pattern=err("LengthMismatch", 1, 3)):
        coin.mintBatch([alice], [COIN, COIN, COIN], {"from": minter})


def test_mint_to_the_zero_address_is_refused(coin, minter, alice, err):
    with brownie.reverts(revert_pattern=err("ERC20InvalidReceiver", ZERO)):
        coin.mintBatch([alice, ZERO], [COIN, COIN], {"from": minter})
    assert coin.balanceOf(alice) == 0
