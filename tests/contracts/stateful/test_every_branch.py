"""Every rule of the system state machine, down both its success and its revert branch.

The machine of test_system_properties.py, driven through a fixed sequence instead of random
ones, with every invariant checked after each step. Random exploration finds the combinations;
this proves that each branch is reachable and predicted right, on every run. (A module of its
own: brownie's state machine replaces the test's isolation snapshot with its own, so a second
machine in the same module would start from the first one's state.)
"""

from __future__ import annotations

from collections import Counter

from brownie import chain
from brownie.test.stateful import _generate_state_machine

from .test_system_properties import COIN, RULES, SystemMachine


def test_every_rule_reaches_its_success_and_its_revert_branch(deployment, accounts, domain, signer_keys):
    branches = Counter()
    machine_class = _generate_state_machine(SystemMachine)
    SystemMachine.__init__(machine_class, deployment, accounts, domain, signer_keys, branches)
    chain.snapshot()
    machine = machine_class()  # reverts to the snapshot and runs setup()
    machine.check_invariants(None)

    def step(rule, **arguments):
        getattr(machine, f"rule_{rule}")(**arguments)
        machine.check_invariants(None)

    admin, customer = 0, 5  # indexes into machine.operators
    not_found = lambda: (False, len(machine.model.redemption.redemptions))  # noqa: E731
    # FeedbackRegistry
    step("submit_batch", records=[(0, 1, "past"), (1, 4, "past")], signing="quorum", expired=False)
    step("submit_batch", records=[(1, 1, "past")], signing="high_s", expired=False)
    step("replay_batch", index=0)
    step("submit_duplicate_event", index=0, customer=2, kind=4, expired=False)
    step("submit_duplicate_event", index=0, customer=2, kind=4, expired=True)
    step("add_signer", key=(True, 0), operator=admin)
    step("add_signer", key=(True, 0), operator=customer)
    step("remove_signer", key=(True, 0), operator=admin)
    step("remove_signer", key=(True, 0), operator=customer)
    step("rotate_signer", old=(True, 0), new=(True, 0), operator=admin)
    step("rotate_signer", old=(True, 0), new=(True, 0), operator=customer)
    step("set_quorum", quorum=1, operator=admin)
    step("set_quorum", quorum=0, operator=admin)
    step("set_customer_cap", count=10, operator=admin)
    step("set_customer_cap", count=2**24, operator=admin)
    step("set_limit", limit="welcome_bonus", amount=5 * COIN, operator=admin)
    step("set_limit", limit="brand_cap", amount=2**96, operator=admin)
    step("set_brand_active", active=True, operator=admin)
    step("set_brand_active", active=False, operator=customer)
    # ServiceCoin
    step("transfer", sender=0, receiver=1, fraction="half")  # restricted
    step("set_transfers_open", open_=True, operator=customer)
    step("set_transfers_open", open_=True, operator=admin)
    step("transfer", sender=0, receiver=1, fraction="half")
    step("transfer_from", spender=1, owner=0, receiver=2, fraction="zero")
    step("transfer_from", spender=1, owner=0, receiver=5, fraction="zero")  # to address(0)
    step("approve", owner=0, spender=1, amount=10 * COIN)
    step("approve", owner=0, spender=5, amount=10 * COIN)  # address(0)
    # TierRedemption
    step("redeem", who=1, item=3, max_price="exact")
    step("redeem", who=0, item=4, max_price="exact")  # no such item
    step("fulfil", pick=(True, 0), operator=admin)
    step("fulfil", pick=(True, 0), operator=customer)
    step("dispute", pick=(True, 0), same_customer=True, other=0)
    step("dispute", pick=not_found(), same_customer=True, other=0)
    step("refund", pick=(True, 0), operator=admin)
    step("refund", pick=not_found(), operator=admin)
    step("reject_dispute", pick=(True, 0), operator=admin)
    step("reject_dispute", pick=(True, 0), operator=customer)
    step("announce_price", item=0, price=5 * COIN, operator=admin)
    step("announce_price", item=0, price=2**96, operator=admin)
    step("cancel_price_change", item=(True, 0), operator=admin)
    step("cancel_price_change", item=(True, 0), operator=admin)  # nothing pending any more
    step("update_item", item=0, stock=50, active=True, bad_window=False, operator=admin)
    step("update_item", item=0, stock=50, active=True, bad_window=True, operator=admin)
    step("set_tiers", schedule=1, operator=admin)
    step("set_tiers", schedule=4, operator=admin)
    for edge in range(10, 14):  # 16 tiers; 17 tiers; the uint96 threshold; one past it
        step("set_tiers", schedule=edge, operator=admin)
    step("set_tiers", schedule=1, operator=admin)
    step("settle", pick=(True, 0), anyone=3)  # the window is still open
    step("advance_time", seconds=15 * 86_400)
    step("settle", pick=(True, 0), anyone=3)
    step("replay_batch", index=0)  # past its deadline now
    # Access control
    step("pause", pick=(True, 0), operator=admin)
    step("pause", pick=(True, 0), operator=customer)
    step("unpause", pick=(True, 0), operator=customer)
    step("unpause", pick=(True, 0), operator=admin)
    step("grant_role", role=("redemption", "FULFILLER_ROLE"), grantee=1, operator=admin)
    step("grant_role", role=("redemption", "FULFILLER_ROLE"), grantee=2, operator=customer)
    step("revoke_role", role=("redemption", "FULFILLER_ROLE"), grantee=1, operator=admin)
    step("revoke_role", role=("coin", "DEFAULT_ADMIN_ROLE"), grantee=0, operator=admin)
    machine.teardown()

    missing = [f"{rule} ({branch})" for rule in RULES for branch in ("success", "revert") if not branches[(rule, branch)]]
    assert not missing, f"branches the sequence did not reach: {', '.join(missing)}"
