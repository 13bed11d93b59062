"""Roles: who holds what after deployment, and that nobody can raise their own rights."""

import brownie
import pytest
from eth_abi import encode
from eth_utils import keccak

from .helpers import BRAND, OTHER_BRAND, error, role_id

ROLES = ["CATALOG_ROLE", "FULFILLER_ROLE", "ARBITER_ROLE", "PAUSER_ROLE"]
ADMIN_TRANSFER_DELAY = 86400


@pytest.mark.parametrize("name", ["ARBITER_ROLE", "PAUSER_ROLE"])
def test_role_is_the_keccak_of_its_name(redemption, name):
    assert getattr(redemption, name)() == "0x" + keccak(text=name).hex()


@pytest.mark.parametrize("function, namespace", [("catalogRole", "CATALOG_ROLE"), ("fulfillerRole", "FULFILLER_ROLE")])
@pytest.mark.parametrize("brand", [0, BRAND, OTHER_BRAND, 2**32 - 1])
def test_a_brand_role_is_the_keccak_of_its_namespace_and_brand(redemption, function, namespace, brand):
    expected = keccak(encode(["bytes32", "uint32"], [keccak(text=namespace), brand]))
    assert getattr(redemption, function)(brand) == "0x" + expected.hex()


@pytest.mark.parametrize("name", ROLES)
def test_deployer_holds_each_role_and_administers_it(redemption, admin, name):
    role = role_id(redemption, name)
    assert redemption.hasRole(role, admin)
    assert redemption.getRoleAdmin(role) == redemption.DEFAULT_ADMIN_ROLE()


def test_deployer_is_the_default_admin(redemption, admin):
    assert redemption.defaultAdmin() == admin
    assert redemption.defaultAdminDelay() == ADMIN_TRANSFER_DELAY


@pytest.mark.parametrize("name", ROLES)
def test_customer_cannot_grant_itself_a_role(redemption, alice, name):
    role = role_id(redemption, name)
    with brownie.reverts(
        revert_pattern=error("AccessControlUnauthorizedAccount", alice, redemption.DEFAULT_ADMIN_ROLE())
    ):
        redemption.grantRole(role, alice, {"from": alice})
    assert not redemption.hasRole(role, alice)


@pytest.mark.parametrize("holder, name", [("fulfiller", "ARBITER_ROLE"), ("arbiter", "FULFILLER_ROLE"),
                                          ("cataloguer", "PAUSER_ROLE"), ("pauser", "CATALOG_ROLE")])
def test_role_holder_cannot_grant_itself_another_role(redemption, request, holder, name):
    account = request.getfixturevalue(holder)
    role = role_id(redemption, name)
    with brownie.reverts(
        revert_pattern=error("AccessControlUnauthorizedAccount", account, redemption.DEFAULT_ADMIN_ROLE())
    ):
        redemption.grantRole(role, account, {"from": account})
    assert not redemption.hasRole(role, account)


def test_role_holder_cannot_share_its_role(redemption, fulfiller, alice):
    role = redemption.fulfillerRole(BRAND)
    with brownie.reverts(
        revert_pattern=error("AccessControlUnauthorizedAccount", fulfiller, redemption.DEFAULT_ADMIN_ROLE())
    ):
        redemption.grantRole(role, alice, {"from": fulfiller})
    assert not redemption.hasRole(role, alice)


def test_role_holder_cannot_revoke_another_holder(redemption, admin, arbiter):
    role = redemption.ARBITER_ROLE()
    with brownie.reverts(
        revert_pattern=error("AccessControlUnauthorizedAccount", arbiter, redemption.DEFAULT_ADMIN_ROLE())
    ):
        redemption.revokeRole(role, admin, {"from": arbiter})
    assert redemption.hasRole(role, admin)


def test_customer_cannot_renounce_a_role_for_someone_else(redemption, fulfiller, alice):
    role = redemption.fulfillerRole(BRAND)
    with brownie.reverts(revert_pattern=error("AccessControlBadConfirmation")):
        redemption.renounceRole(role, fulfiller, {"from": alice})
    assert redemption.hasRole(role, fulfiller)


def test_default_admin_role_cannot_be_granted_directly(redemption, admin, alice):
    with brownie.reverts(revert_pattern=error("AccessControlEnforcedDefaultAdminRules")):
        redemption.grantRole(redemption.DEFAULT_ADMIN_ROLE(), alice, {"from": admin})
    assert redemption.defaultAdmin() == admin


def test_customer_cannot_start_an_admin_transfer(redemption, alice):
    with brownie.reverts(
        revert_pattern=error("AccessControlUnauthorizedAccount", alice, redemption.DEFAULT_ADMIN_ROLE())
    ):
        redemption.beginDefaultAdminTransfer(alice, {"from": alice})


def test_admin_transfer_waits_for_the_delay(redemption, chain, admin, alice):
    tx = redemption.beginDefaultAdminTransfer(alice, {"from": admin})
    schedule = tx.events["DefaultAdminTransferScheduled"]["acceptSchedule"]
    assert schedule == tx.timestamp + ADMIN_TRANSFER_DELAY
    with brownie.reverts(revert_pattern=error("AccessControlEnforcedDefaultAdminDelay", schedule)):
        redemption.acceptDefaultAdminTransfer({"from": alice})
    assert redemption.defaultAdmin() == admin


def test_admin_transfer_completes_after_the_delay(redemption, chain, admin, alice):
    redemption.beginDefaultAdminTransfer(alice, {"from": admin})
    chain.sleep(ADMIN_TRANSFER_DELAY + 1)
    redemption.acceptDefaultAdminTransfer({"from": alice})
    assert redemption.defaultAdmin() == alice
    with brownie.reverts(
        revert_pattern=error("AccessControlUnauthorizedAccount", admin, redemption.DEFAULT_ADMIN_ROLE())
    ):
        redemption.setTiers([0], [10_000], {"from": admin})


def test_only_the_pending_admin_accepts(redemption, chain, admin, alice, bob):
    redemption.beginDefaultAdminTransfer(alice, {"from": admin})
    chain.sleep(ADMIN_TRANSFER_DELAY + 1)
    with brownie.reverts(revert_pattern=error("AccessControlInvalidDefaultAdmin", bob)):
        redemption.acceptDefaultAdminTransfer({"from": bob})
    assert redemption.defaultAdmin() == admin


def test_revoked_fulfiller_can_no_longer_fulfil(redemption, admin, fulfiller, item, alice):
    rid = redemption.redeem(item, 10**19, {"from": alice}).return_value
    role = redemption.fulfillerRole(BRAND)
    redemption.revokeRole(role, fulfiller, {"from": admin})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", fulfiller, role)):
        redemption.fulfil(rid, keccak(text="x"), {"from": fulfiller})


def test_customer_cannot_manage_the_catalog_or_tiers(redemption, alice, item):
    catalog = redemption.catalogRole(BRAND)
    admin_role = redemption.DEFAULT_ADMIN_ROLE()
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", alice, catalog)):
        redemption.announcePrice(item, 0, {"from": alice})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", alice, admin_role)):
        redemption.setTiers([0], [100_000], {"from": alice})
