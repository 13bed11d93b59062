"""The admin of each contract changes hands only in two steps: the admin proposes, the new
admin accepts, and not before the delay. Until then the old admin keeps every power, and the
new one has none; afterwards the old admin has none."""

import brownie
import pytest

from tests.contracts.revert_patterns import error

CONTRACTS = ("coin", "registry", "redemption")
ADMIN_ROLE = b"\x00" * 32


@pytest.mark.parametrize("name", CONTRACTS)
def test_accepting_before_the_delay_is_refused(deployment, name, admin, alice):
    contract = getattr(deployment, name)
    contract.beginDefaultAdminTransfer(alice, {"from": admin})
    _, schedule = contract.pendingDefaultAdmin()
    with brownie.reverts(revert_pattern=error("AccessControlEnforcedDefaultAdminDelay", schedule)):
        contract.acceptDefaultAdminTransfer({"from": alice})
    assert contract.defaultAdmin() == admin


@pytest.mark.parametrize("name", CONTRACTS)
def test_only_the_proposed_admin_accepts(deployment, name, admin, alice, bob, chain):
    contract = getattr(deployment, name)
    contract.beginDefaultAdminTransfer(alice, {"from": admin})
    chain.sleep(contract.defaultAdminDelay() + 1)
    chain.mine()
    with brownie.reverts(revert_pattern=error("AccessControlInvalidDefaultAdmin", bob)):
        contract.acceptDefaultAdminTransfer({"from": bob})
    assert contract.defaultAdmin() == admin


@pytest.mark.parametrize("name", CONTRACTS)
def test_after_the_hand_over_the_old_admin_has_no_power(deployment, name, admin, alice, bob, chain):
    contract = getattr(deployment, name)
    pauser = contract.PAUSER_ROLE()
    contract.beginDefaultAdminTransfer(alice, {"from": admin})
    # Still the admin while the hand-over is pending.
    contract.grantRole(pauser, bob, {"from": admin})
    chain.sleep(contract.defaultAdminDelay() + 1)
    chain.mine()
    contract.acceptDefaultAdminTransfer({"from": alice})
    assert contract.defaultAdmin() == alice
    assert not contract.hasRole(ADMIN_ROLE, admin)
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", admin, ADMIN_ROLE)):
        contract.revokeRole(pauser, bob, {"from": admin})
    contract.revokeRole(pauser, bob, {"from": alice})
    assert not contract.hasRole(pauser, bob)


@pytest.mark.parametrize("name", CONTRACTS)
def test_no_one_but_the_admin_proposes_a_new_admin(deployment, name, alice, bob):
    contract = getattr(deployment, name)
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", alice, ADMIN_ROLE)):
        contract.beginDefaultAdminTransfer(alice, {"from": alice})
    assert contract.pendingDefaultAdmin()[0] == "0x" + "00" * 20
