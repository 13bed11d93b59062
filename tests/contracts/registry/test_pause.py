"""Pause: PAUSER_ROLE stops recording and wallet links; only the admin resumes."""

import brownie
from eth_utils import keccak

from oracle.typed_data import link_wallet_digest, sign_digest

from .helpers import BRAND, COIN, error

PAUSER_ROLE = keccak(text="PAUSER_ROLE")
ADMIN_ROLE = b"\x00" * 32


def test_pauser_pauses_and_unpauses_are_emitted(registry, admin):
    tx = registry.pause({"from": admin})
    assert tx.events["Paused"] == {"account": admin}
    assert registry.paused()
    tx = registry.unpause({"from": admin})
    assert tx.events["Unpaused"] == {"account": admin}
    assert not registry.paused()


def test_only_the_pauser_role_pauses(registry, outsider):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, PAUSER_ROLE)):
        registry.pause({"from": outsider})
    assert not registry.paused()


def test_a_pauser_who_is_not_admin_cannot_unpause(registry, admin, bob):
    registry.grantRole(PAUSER_ROLE, bob, {"from": admin})
    registry.pause({"from": bob})
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", bob, ADMIN_ROLE)):
        registry.unpause({"from": bob})
    assert registry.paused()


def test_submit_batch_while_paused_is_refused_and_changes_nothing(batches, registry, coin, admin, alice):
    registry.pause({"from": admin})
    batch = batches.batch([batches.record(alice)])
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        batches.submit(batch)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)
    assert coin.balanceOf(alice) == 0
    assert registry.accountOf(alice) == (0, 0, 0, False)


def test_link_wallet_while_paused_is_refused_and_changes_nothing(
    batches, registry, coin, admin, domain, holder, bob, chain
):
    batches.reward([holder.address])
    registry.pause({"from": admin})
    deadline = chain.time() + 3600
    signature = sign_digest(holder.key, link_wallet_digest(domain, holder.address, str(bob), 0, deadline))
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        registry.linkWallet(holder.address, bob, deadline, signature, {"from": admin})
    assert registry.linkNonce(holder.address) == 0
    assert coin.balanceOf(holder.address) == 10 * COIN
    assert registry.lifetimeEarned(holder.address) == 5 * COIN


def test_a_batch_refused_while_paused_is_accepted_after_unpause(batches, registry, admin, alice):
    registry.pause({"from": admin})
    batch = batches.batch([batches.record(alice)])
    signatures = batches.sign(batch)
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        batches.submit(batch, signatures=signatures)
    registry.unpause({"from": admin})
    assert batches.submit(batch, signatures=signatures).events["BatchRecorded"]["recorded"] == 1
