"""What every rule of the system state machine shares: actors, the chain's clock, sending a
call that must succeed or revert with a named error, and the tally of branches exercised.

The rule mixins (rules_*.py) and the invariants (invariants.py) build on this class; the
machine itself is assembled in test_system_properties.py.
"""

from __future__ import annotations

import itertools
from collections import Counter

import brownie
from brownie import chain, web3
from hypothesis import strategies as st

from tests.contracts.revert_patterns import error

from .model import Status, SystemModel

# How far (seconds) a deadline must be from the chain's clock for a rule to predict its side
# of it. Before a time-sensitive rule the clock is moved past any deadline closer than this, so
# that the second a transaction happens to be mined in never decides what the model predicts.
CLOCK_MARGIN = 60
GAS_PRICE = 10 * 10**9  # brownie-config.yaml's 10 gwei
DEFAULT_ADMIN_ROLE = b"\x00" * 32
# Each transaction gets a gas price one wei above the previous one. After brownie reverts the
# chain for the next example, an identical call from the same nonce would otherwise be a
# byte-identical transaction, which brownie then reports as "dropped".
_UNIQUE = itertools.count()


class MachineBase:
    """Shared state and helpers. Attributes set in the machine's __init__ (class level):
    coin, registry, redemption, domain, admin, customers, staff, relayer, outsider, operators,
    role_ids, branches, initial_model. Per example (setup): model, accepted_batches, ..."""

    model: SystemModel
    branches: Counter

    # Who calls a role-gated function: mostly the admin (holder of every role at deployment),
    # else a staff account (holding what the role rules granted it) or a customer.
    st_operator = st.sampled_from([0, 0, 0, 0, 1, 2, 3, 4, 5])
    st_customer = st.integers(0, 2)
    # (prefer, index): with prefer, a rule picks among the choices that can succeed (when there
    # are any), else among all of them, so that both branches stay likely in any state.
    st_pick = st.tuples(st.sampled_from([True, True, True, False]), st.integers(0, 2**16))

    @staticmethod
    def choose(pick, preferred: list, everything: list):
        prefer, index = pick
        pool = preferred if prefer and preferred else everything
        return pool[index % len(pool)]

    # ------------------------------------------------------------------ chain

    @staticmethod
    def now() -> int:
        """The latest block's timestamp: the chain's clock as the next call will (about) see it."""
        return web3.eth.get_block("latest")["timestamp"]

    @staticmethod
    def opts(sender) -> dict:
        return {"from": sender, "gas_price": GAS_PRICE + next(_UNIQUE)}

    def critical_times(self) -> list[int]:
        """Every timestamp at which some call's outcome flips."""
        now = self.now()
        period = self.model.registry.period_length
        times = [(now // period + 1) * period]
        times += [batch.deadline for batch, _ in self.accepted_batches]
        paused_seconds = self.model.redemption.paused_seconds_at(now)
        times += [item.effective_at(paused_seconds) for item in self.model.redemption.items.values()
                  if item.pending_price]
        times += [
            self.model.redemption.closes_at(r)
            for r in self.model.redemption.redemptions
            if r.status == Status.FULFILLED
        ]
        return times

    def clear_of_deadlines(self) -> int:
        """Moves the clock on until no deadline lies within CLOCK_MARGIN of it; returns the time."""
        for _ in range(5):
            now = self.now()
            if not any(now - 1 <= t <= now + CLOCK_MARGIN for t in self.critical_times()):
                return now
            chain.sleep(CLOCK_MARGIN + 2)
            chain.mine()
        raise AssertionError("could not move the clock clear of every deadline")

    # ------------------------------------------------------------------ calls

    def call(self, rule: str, expected: str | None, function, *args, sender):
        """Sends `function(*args)` from `sender`. expected None: it must succeed, and the
        receipt is returned; otherwise it must revert with that error pattern (None returned)."""
        if expected is None:
            tx = function(*args, self.opts(sender))
            self.branches[(rule, "success")] += 1
            return tx
        with brownie.reverts(revert_pattern=expected):
            function(*args, self.opts(sender))
        self.branches[(rule, "revert")] += 1
        return None

    # ------------------------------------------------------------------ access control

    def has_role(self, contract: str, role: str, account) -> bool:
        return self.model.roles.has(contract, role, str(account))

    def is_admin(self, contract: str, account) -> bool:
        return self.has_role(contract, "DEFAULT_ADMIN_ROLE", account)

    def unauthorized(self, contract: str, role: str, account) -> str | None:
        """OpenZeppelin's onlyRole error if `account` lacks `role` on `contract`, else None."""
        if self.has_role(contract, role, account):
            return None
        return error("AccessControlUnauthorizedAccount", account, self.role_ids[role])

    @staticmethod
    def paused_error(paused: bool) -> str | None:
        return error("EnforcedPause") if paused else None

    # ------------------------------------------------------------------ events

    @staticmethod
    def events(tx, name: str) -> list:
        return list(tx.events[name]) if name in tx.events else []
