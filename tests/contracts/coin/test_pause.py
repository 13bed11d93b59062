"""pause/unpause: PAUSER_ROLE stops every balance change; only the admin resumes them."""

from __future__ import annotations

import brownie
import pytest

COIN = 10**18


@pytest.fixture
def paused(coin, mint, admin, alice, burner):
    """Alice and the burner hold coins, then the deployer (who holds PAUSER_ROLE) pauses."""
    mint({alice: 10 * COIN, burner: 10 * COIN})
    coin.pause({"from": admin})


def test_pauser_pauses(coin, pauser):
    tx = coin.pause({"from": pauser})
    assert coin.paused() is True
    assert tx.events["Paused"][0]["account"] == pauser


def test_outsider_cannot_pause(coin, outsider, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(outsider, coin.PAUSER_ROLE())):
        coin.pause({"from": outsider})
    assert coin.paused() is False


def test_pauser_cannot_unpause(coin, pauser, unauthorized):
    coin.pause({"from": pauser})
    with brownie.reverts(revert_pattern=unauthorized(pauser, coin.DEFAULT_ADMIN_ROLE())):
        coin.unpause({"from": pauser})
    assert coin.paused() is True


def test_admin_unpauses(coin, admin, pauser):
    coin.pause({"from": pauser})
    tx = coin.unpause({"from": admin})
    assert coin.paused() is False
    assert tx.events["Unpaused"][0]["account"] == admin


def test_pausing_twice_is_refused(coin, admin, paused, err):
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.pause({"from": admin})


def test_unpausing_when_not_paused_is_refused(coin, admin, err):
    with brownie.reverts(revert_pattern=err("ExpectedPause")):
        coin.unpause({"from": admin})


def test_mint_reverts_while_paused(coin, minter, alice, paused, err):
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.mintBatch([alice], [COIN], {"from": minter})
    assert coin.totalSupply() == 20 * COIN


def test_burn_reverts_while_paused(coin, burner, paused, err):
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.burn(COIN, {"from": burner})
    assert coin.balanceOf(burner) == 10 * COIN


def test_open_transfer_reverts_while_paused(coin, admin, alice, bob, paused, err):
    coin.setTransfersOpen(True, {"from": admin})
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.transfer(bob, COIN, {"from": alice})
    assert coin.balanceOf(alice) == 10 * COIN


def test_a_restricted_transfer_while_paused_names_the_pause(coin, alice, bob, paused, err):
    # The pause is checked first: while paused nothing moves, whatever the transfer policy says.
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.transfer(bob, COIN, {"from": alice})
    assert coin.balanceOf(alice) == 10 * COIN


def test_protocol_transfer_from_reverts_while_paused(coin, protocol, alice, paused, err):
    coin.approve(protocol, COIN, {"from": alice})
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.transferFrom(alice, protocol, COIN, {"from": protocol})
    assert coin.allowance(alice, protocol) == COIN


def test_relocate_reverts_while_paused(coin, linker, alice, bob, paused, err):
    with brownie.reverts(revert_pattern=err("EnforcedPause")):
        coin.relocate(alice, bob, COIN, {"from": linker})
    assert coin.balanceOf(alice) == 10 * COIN


def test_approvals_still_work_while_paused(coin, alice, bob, paused):
    """Pausing freezes balances, not allowances."""
    coin.approve(bob, 3 * COIN, {"from": alice})
    assert coin.allowance(alice, bob) == 3 * COIN


def test_balance_changes_resume_after_unpause(
    coin, admin, minter, burner, protocol, linker, alice, bob, paused
):
    coin.unpause({"from": admin})
    coin.mintBatch([alice], [COIN], {"from": minter})
    coin.burn(2 * COIN, {"from": burner})
    coin.approve(protocol, COIN, {"from": alice})
    coin.transferFrom(alice, protocol, COIN, {"from": protocol})
    coin.relocate(alice, bob, 4 * COIN, {"from": linker})
    assert coin.balanceOf(alice) == 6 * COIN
    assert coin.balanceOf(bob) == 4 * COIN
    assert coin.balanceOf(protocol) == COIN
    assert coin.balanceOf(burner) == 8 * COIN
    assert coin.totalSupply() == 19 * COIN
