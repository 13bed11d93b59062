"""A registry straight out of its constructor: a period length, a quorum of one, and nothing it
can record until a tier source, a brand and a signer are set."""

import brownie
import pytest
from brownie import FeedbackRegistry

from .helpers import BRAND, PERIOD, error


@pytest.fixture
def fresh(admin, coin):
    return FeedbackRegistry.deploy(admin, coin, PERIOD, PERIOD, {"from": admin})


def test_zero_period_length_is_refused(admin, coin):
    with brownie.reverts(revert_pattern=error("InvalidPeriodLength", 0)):
        FeedbackRegistry.deploy(admin, coin, 0, PERIOD, {"from": admin})


def test_constructor_state(fresh, admin, chain):
    assert fresh.PERIOD_LENGTH() == PERIOD
    assert fresh.currentPeriod() == chain.time() // PERIOD
    assert not fresh.brandOf(1)["registered"]  # no brand, so no signer and no quorum yet
    assert fresh.defaultAdmin() == admin
    assert fresh.tierSource() == "0x" + "00" * 20


def test_batch_without_a_tier_source_is_refused(fresh, admin, batches, alice):
    fresh.registerBrand(BRAND, 10**24, {"from": admin})
    batch = batches.batch([batches.record(alice)])
    with brownie.reverts(revert_pattern=error("TierSourceNotSet")):
        fresh.submitBatch(batch.as_packed(), [], {"from": admin})


def test_registry_without_signers_accepts_no_unsigned_batch(fresh, admin, redemption, batches, alice):
    fresh.registerBrand(BRAND, 10**24, {"from": admin})
    tx = fresh.setTierSource(redemption, {"from": admin})
    assert tx.events["TierSourceChanged"] == {"oldSource": "0x" + "00" * 20, "newSource": redemption}
    batch = batches.batch([batches.record(alice)])
    with brownie.reverts(revert_pattern=error("QuorumNotReached", 0, 1)):
        fresh.submitBatch(batch.as_packed(), [], {"from": admin})
