"""Fixtures for the FeedbackRegistry suite (on top of tests/contracts/conftest.py)."""

from __future__ import annotations

import pytest
from brownie import chain
from eth_account import Account
from eth_utils import keccak

from scripts.deploy import deploy

from .helpers import BRAND


@pytest.fixture(scope="session")
def deployment(admin, config):
    """One deployment for every module of this folder (the same deploy() the scripts use).

    tests/contracts/conftest.py deploys once per module, and brownie's module isolation resets
    the chain between modules: with one module per behaviour that is a dozen deployments,
    most of this folder's run time on Ganache. Each test still starts from this fresh
    deployment: `isolation` below snapshots before every test and reverts after it.
    """
    return deploy(admin, config)


@pytest.fixture(autouse=True)
def isolation(deployment):
    """Overrides the parent's fn_isolation (whose module reset would discard the session
    deployment): every test starts from the deployment's state and leaves nothing behind.

    The block mined after the snapshot syncs chain.time() with the chain: after evm_revert,
    Anvil's clock restarts from the snapshot's block time while brownie's would keep running
    since the snapshot, and records stamped `chain.time() - 60` would occur in the future.
    """
    chain.snapshot()
    chain.mine()
    yield
    chain.revert()


@pytest.fixture
def quorum_of_two(registry, admin, signer_addresses):
    """All three test signers registered for brand 1, two of them needed (the deployment has one of one)."""
    registry.addSigner(BRAND, signer_addresses[1], {"from": admin})
    registry.addSigner(BRAND, signer_addresses[2], {"from": admin})
    registry.setQuorum(BRAND, 2, {"from": admin})


@pytest.fixture(scope="session")
def holder():
    """A custodial customer address whose key is held locally (it signs wallet links)."""
    return Account.from_key(keccak(text="servicecoin-test-custodial-holder"))


@pytest.fixture(scope="session")
def stranger():
    """A local key that holds nothing and is registered nowhere."""
    return Account.from_key(keccak(text="servicecoin-test-stranger"))
