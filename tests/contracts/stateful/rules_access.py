"""Rules on access control and time: pausing and unpausing each contract, granting and
revoking roles (by the admin, and escalation attempts by everyone else), the clock moving on."""

from __future__ import annotations

from brownie import chain
from hypothesis import strategies as st

from tests.contracts.revert_patterns import error

from .machine_base import MachineBase

CONTRACTS = ("coin", "registry", "redemption")
# Every role of each contract. The admin may grant any but DEFAULT_ADMIN_ROLE (two-step only);
# the grantees are the admin and staff accounts, never the protocol contracts, whose roles
# (minting, burning, protocol moves) the machine keeps as deployed. CATALOG_ROLE and
# FULFILLER_ROLE stand for brand 1's per-brand roles, the _2 ones for brand 2's, the brand of
# the scarce item (test_system_properties).
ROLES = {
    "coin": ("DEFAULT_ADMIN_ROLE", "MINTER_ROLE", "BURNER_ROLE", "PROTOCOL_ROLE", "WALLET_LINKER_ROLE", "PAUSER_ROLE"),
    "registry": ("DEFAULT_ADMIN_ROLE", "PAUSER_ROLE", "LINK_OPERATOR_ROLE"),
    "redemption": ("DEFAULT_ADMIN_ROLE", "CATALOG_ROLE", "FULFILLER_ROLE", "CATALOG_ROLE_2", "FULFILLER_ROLE_2",
                   "ARBITER_ROLE", "PAUSER_ROLE"),
}
CONTRACT_ROLES = [(contract, role) for contract in CONTRACTS for role in ROLES[contract]]


class AccessRules(MachineBase):
    st_role = st.sampled_from(CONTRACT_ROLES)
    st_grantee = st.integers(0, 4)  # the admin or a staff account
    # Mostly short moves (within a price's notice week), sometimes past a notice period or a
    # dispute window.
    st_seconds = st.sampled_from([120, 3_600, 3_600, 86_400, 86_400, 3 * 86_400, 8 * 86_400, 15 * 86_400])

    def _contract(self, name: str):
        return {"coin": self.coin, "registry": self.registry, "redemption": self.redemption}[name]

    def rule_pause(self, pick="st_pick", operator="st_operator"):
        contract = self.choose(pick, [c for c in CONTRACTS if not self._state_of(c).paused], list(CONTRACTS))
        caller = self.operators[operator]
        state = self._state_of(contract)
        expected = self.unauthorized(contract, "PAUSER_ROLE", caller) or self.paused_error(state.paused)
        tx = self.call("pause", expected, self._contract(contract).pause, sender=caller)
        if tx is None:
            return
        state.paused = True
        if contract == "redemption":
            self.model.redemption.paused_at = tx.timestamp
        self.frozen[contract] = self.fingerprint(contract)

    def rule_unpause(self, pick="st_pick", operator="st_operator"):
        contract = self.choose(pick, [c for c in CONTRACTS if self._state_of(c).paused], list(CONTRACTS))
        caller = self.operators[operator]
        state = self._state_of(contract)
        expected = self.unauthorized(contract, "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and not state.paused:
            expected = error("ExpectedPause")
        tx = self.call("unpause", expected, self._contract(contract).unpause, sender=caller)
        if tx is None:
            return
        state.paused = False
        if contract == "redemption":
            self.model.redemption.paused_seconds += tx.timestamp - self.model.redemption.paused_at
        self.frozen.pop(contract, None)

    def _state_of(self, contract: str):
        return {"coin": self.model.coin, "registry": self.model.registry, "redemption": self.model.redemption}[contract]

    def _role_change_error(self, contract: str, name: str, caller):
        """What granting or revoking `name` on `contract` by `caller` reverts with (None: success).
        The admin role changes hands only through the two-step transfer."""
        if name == "DEFAULT_ADMIN_ROLE":
            return error("AccessControlEnforcedDefaultAdminRules")
        return self.unauthorized(contract, "DEFAULT_ADMIN_ROLE", caller)

    def rule_grant_role(self, role="st_role", grantee="st_grantee", operator="st_operator"):
        """The admin grants; anyone else granting (a role holder passing its role on, a customer
        granting itself) is refused, and the admin role itself is never granted directly."""
        contract, name = role
        caller, account = self.operators[operator], self.grantees[grantee]
        expected = self._role_change_error(contract, name, caller)
        tx = self.call("grant_role", expected, self._contract(contract).grantRole, self.role_ids[name], account, sender=caller)
        if tx is not None and not self.has_role(contract, name, account):
            self.model.roles.grant(contract, name, str(account))
            self.expected_role_events.append(("RoleGranted", contract, name, str(account).lower()))

    def rule_revoke_role(self, role="st_role", grantee="st_grantee", operator="st_operator"):
        contract, name = role
        caller, account = self.operators[operator], self.grantees[grantee]
        expected = self._role_change_error(contract, name, caller)
        tx = self.call("revoke_role", expected, self._contract(contract).revokeRole, self.role_ids[name], account, sender=caller)
        if tx is not None and self.has_role(contract, name, account):
            self.model.roles.revoke(contract, name, str(account))
            self.expected_role_events.append(("RoleRevoked", contract, name, str(account).lower()))

    def rule_advance_time(self, seconds="st_seconds"):
        """Time moves on: cap periods roll over, prices take effect, dispute windows close."""
        chain.sleep(seconds)
        chain.mine()
