from brownie import reverts

from oracle.kinds import FeedbackKind
from tests.contracts.batch_outcomes import outcomes, rewarded

COIN = 10**18


def test_signed_batch_mints_reward_and_welcome(batches, registry, coin, alice):
    tx = batches.reward([alice], FeedbackKind.PRODUCT_REVIEW)
    assert outcomes(tx) == [rewarded(10 * COIN, 5 * COIN)]
    assert coin.balanceOf(alice) == 15 * COIN  # 10 review + 5 welcome
    assert registry.lifetimeEarned(alice) == 10 * COIN


def test_unsigned_batch_reverts(batches, alice):
    batch = batches.batch([batches.record(alice)])
    with reverts(revert_pattern=r"QuorumNotReached: 0, 1"):
        batches.submit(batch, signatures=[])
