"""The admin role: handed over in two steps with a delay (AccessControlDefaultAdminRules),
and the only role that grants roles."""

from __future__ import annotations

import brownie

ZERO = "0x0000000000000000000000000000000000000000"


def test_granting_the_admin_role_directly_is_refused(coin, admin, bob, err):
    with brownie.reverts(revert_pattern=err("AccessControlEnforcedDefaultAdminRules")):
        coin.grantRole(coin.DEFAULT_ADMIN_ROLE(), bob, {"from": admin})
    assert not coin.hasRole(coin.DEFAULT_ADMIN_ROLE(), bob)


def test_revoking_the_admin_role_directly_is_refused(coin, admin, err):
    with brownie.reverts(revert_pattern=err("AccessControlEnforcedDefaultAdminRules")):
        coin.revokeRole(coin.DEFAULT_ADMIN_ROLE(), admin, {"from": admin})
    assert coin.defaultAdmin() == admin


def test_begin_transfer_schedules_the_new_admin(coin, admin, bob, config):
    tx = coin.beginDefaultAdminTransfer(bob, {"from": admin})
    schedule = tx.timestamp + config.admin_transfer_delay
    assert coin.pendingDefaultAdmin() == (bob, schedule)
    assert tx.events["DefaultAdminTransferScheduled"][0]["newAdmin"] == bob
    assert tx.events["DefaultAdminTransferScheduled"][0]["acceptSchedule"] == schedule
    assert coin.defaultAdmin() == admin


def test_accepting_before_the_delay_is_refused(coin, admin, bob, config, err):
    tx = coin.beginDefaultAdminTransfer(bob, {"from": admin})
    schedule = tx.timestamp + config.admin_transfer_delay
    with brownie.reverts(revert_pattern=err("AccessControlEnforcedDefaultAdminDelay", schedule)):
        coin.acceptDefaultAdminTransfer({"from": bob})
    assert coin.defaultAdmin() == admin


def test_new_admin_accepts_after_the_delay(coin, chain, admin, bob, config):
    coin.beginDefaultAdminTransfer(bob, {"from": admin})
    chain.sleep(config.admin_transfer_delay + 1)
    chain.mine()
    tx = coin.acceptDefaultAdminTransfer({"from": bob})
    assert coin.defaultAdmin() == bob
    assert coin.hasRole(coin.DEFAULT_ADMIN_ROLE(), bob)
    assert not coin.hasRole(coin.DEFAULT_ADMIN_ROLE(), admin)
    assert coin.pendingDefaultAdmin() == (ZERO, 0)
    assert tx.events["RoleRevoked"][0]["account"] == admin
    assert tx.events["RoleGranted"][0]["account"] == bob


def test_old_admin_loses_admin_powers_after_hand_over(coin, chain, admin, bob, config, unauthorized):
    coin.beginDefaultAdminTransfer(bob, {"from": admin})
    chain.sleep(config.admin_transfer_delay + 1)
    chain.mine()
    coin.acceptDefaultAdminTransfer({"from": bob})
    with brownie.reverts(revert_pattern=unauthorized(admin, coin.DEFAULT_ADMIN_ROLE())):
        coin.setTransfersOpen(True, {"from": admin})
    coin.setTransfersOpen(True, {"from": bob})
    assert coin.transfersOpen() is True


def test_only_the_pending_admin_can_accept(coin, chain, admin, bob, outsider, config, err):
    coin.beginDefaultAdminTransfer(bob, {"from": admin})
    chain.sleep(config.admin_transfer_delay + 1)
    chain.mine()
    with brownie.reverts(revert_pattern=err("AccessControlInvalidDefaultAdmin", outsider)):
        coin.acceptDefaultAdminTransfer({"from": outsider})
    assert coin.defaultAdmin() == admin


def test_cancelled_hand_over_cannot_be_accepted(coin, chain, admin, bob, config, err):
    coin.beginDefaultAdminTransfer(bob, {"from": admin})
    coin.cancelDefaultAdminTransfer({"from": admin})
    chain.sleep(config.admin_transfer_delay + 1)
    chain.mine()
    with brownie.reverts(revert_pattern=err("AccessControlInvalidDefaultAdmin", bob)):
        coin.acceptDefaultAdminTransfer({"from": bob})
    assert coin.defaultAdmin() == admin


def test_non_admin_cannot_begin_a_hand_over(coin, outsider, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(outsider, coin.DEFAULT_ADMIN_ROLE())):
        coin.beginDefaultAdminTransfer(outsider, {"from": outsider})
    assert coin.pendingDefaultAdmin() == (ZERO, 0)


def test_non_admin_cannot_grant_roles(coin, outsider, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(outsider, coin.DEFAULT_ADMIN_ROLE())):
        coin.grantRole(coin.MINTER_ROLE(), outsider, {"from": outsider})
    assert not coin.hasRole(coin.MINTER_ROLE(), outsider)


def test_role_holder_cannot_pass_its_role_on(coin, minter, outsider, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(minter, coin.DEFAULT_ADMIN_ROLE())):
        coin.grantRole(coin.MINTER_ROLE(), outsider, {"from": minter})
    assert not coin.hasRole(coin.MINTER_ROLE(), outsider)


def test_role_holder_cannot_revoke_other_holders(coin, minter, registry, unauthorized):
    with brownie.reverts(revert_pattern=unauthorized(minter, coin.DEFAULT_ADMIN_ROLE())):
        coin.revokeRole(coin.MINTER_ROLE(), registry, {"from": minter})
    assert coin.hasRole(coin.MINTER_ROLE(), registry)
