"""Access control: every setter is the admin's; nobody else can call one or grant themselves a role."""

import brownie
import pytest
from eth_utils import keccak

from oracle.kinds import FeedbackKind

from .helpers import BRAND, COIN, error

ADMIN_ROLE = b"\x00" * 32
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
LINK_OPERATOR_ROLE = keccak(text="LINK_OPERATOR_ROLE")

ADMIN_SETTERS = {
    "addSigner": lambda r, a, tx: r.addSigner(BRAND, a, tx),
    "removeSigner": lambda r, a, tx: r.removeSigner(BRAND, a, tx),
    "rotateSigner": lambda r, a, tx: r.rotateSigner(BRAND, a, a, tx),
    "setQuorum": lambda r, a, tx: r.setQuorum(BRAND, 1, tx),
    "registerBrand": lambda r, a, tx: r.registerBrand(2, COIN, tx),
    "setBrandCap": lambda r, a, tx: r.setBrandCap(BRAND, 0, tx),
    "setBrandActive": lambda r, a, tx: r.setBrandActive(BRAND, False, tx),
    "setBaseReward": lambda r, a, tx: r.setBaseReward(FeedbackKind.REFERRAL, 10**6 * COIN, tx),
    "setCustomerCap": lambda r, a, tx: r.setCustomerCap(10**6, tx),
    "setWelcomeBonus": lambda r, a, tx: r.setWelcomeBonus(10**6 * COIN, tx),
    "setTierSource": lambda r, a, tx: r.setTierSource(a, tx),
    "unpause": lambda r, a, tx: r.unpause(tx),
}


def _settings(registry):
    return (
        registry.brandOf(BRAND),  # its quorum and signer count too
        registry.brandOf(2),
        registry.baseReward(FeedbackKind.REFERRAL),
        registry.customerCapPerPeriod(),
        registry.welcomeBonus(),
        registry.tierSource(),
    )


@pytest.mark.parametrize("setter", ADMIN_SETTERS)
def test_admin_setters_refuse_a_non_admin(registry, outsider, setter):
    before = _settings(registry)
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, ADMIN_ROLE)):
        ADMIN_SETTERS[setter](registry, outsider, {"from": outsider})
    assert _settings(registry) == before


@pytest.mark.parametrize("setter", ["addSigner", "setBaseReward", "setCustomerCap", "setTierSource"])
def test_a_pauser_is_not_an_admin(registry, admin, bob, setter):
    registry.grantRole(PAUSER_ROLE, bob, {"from": admin})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", bob, ADMIN_ROLE)):
        ADMIN_SETTERS[setter](registry, bob, {"from": bob})


@pytest.mark.parametrize("role", [PAUSER_ROLE, LINK_OPERATOR_ROLE], ids=["pauser", "link_operator"])
def test_a_non_admin_cannot_grant_itself_a_role(registry, outsider, role):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, ADMIN_ROLE)):
        registry.grantRole(role, outsider, {"from": outsider})
    assert not registry.hasRole(role, outsider)


def test_the_admin_role_cannot_be_granted_directly(registry, admin, outsider):
    with brownie.reverts(revert_pattern=error("AccessControlEnforcedDefaultAdminRules")):
        registry.grantRole(ADMIN_ROLE, outsider, {"from": admin})
    assert not registry.hasRole(ADMIN_ROLE, outsider)


def test_a_non_admin_cannot_start_an_admin_transfer(registry, admin, outsider):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, ADMIN_ROLE)):
        registry.beginDefaultAdminTransfer(outsider, {"from": outsider})
    assert registry.pendingDefaultAdmin() == ("0x" + "00" * 20, 0)
    assert registry.defaultAdmin() == admin


def test_a_pauser_cannot_grant_the_pauser_role(registry, admin, bob, outsider):
    registry.grantRole(PAUSER_ROLE, bob, {"from": admin})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", bob, ADMIN_ROLE)):
        registry.grantRole(PAUSER_ROLE, outsider, {"from": bob})


def test_revoking_the_pauser_role_takes_pausing_away(registry, admin, bob):
    registry.grantRole(PAUSER_ROLE, bob, {"from": admin})
    registry.revokeRole(PAUSER_ROLE, bob, {"from": admin})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", bob, PAUSER_ROLE)):
        registry.pause({"from": bob})
