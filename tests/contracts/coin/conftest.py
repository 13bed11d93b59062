"""Coin-only fixtures: test accounts granted one ServiceCoin role each, and a mint helper.

The deployment's own role holders are contracts (the registry mints and relocates, the
redemption contract burns), so these tests grant the same roles to plain accounts in order
to call the coin directly. Granting happens once per module, before brownie's snapshot.
"""

from __future__ import annotations

import pytest

from tests.contracts.revert_patterns import error

COIN = 10**18



@pytest.fixture(scope="session")
def err():
    return error


@pytest.fixture(scope="session")
def unauthorized():
    """unauthorized(account, role): OpenZeppelin's AccessControlUnauthorizedAccount pattern."""

    def _unauthorized(account, role):
        return error("AccessControlUnauthorizedAccount", account, role)

    return _unauthorized


@pytest.fixture(scope="module")
def minter(coin, admin, accounts):
    """An account holding MINTER_ROLE (and nothing else)."""
    account = accounts[4]
    coin.grantRole(coin.MINTER_ROLE(), account, {"from": admin})
    return account


@pytest.fixture(scope="module")
def burner(coin, admin, accounts):
    """An account holding BURNER_ROLE (and nothing else)."""
    account = accounts[5]
    coin.grantRole(coin.BURNER_ROLE(), account, {"from": admin})
    return account


@pytest.fixture(scope="module")
def protocol(coin, admin, accounts):
    """An account holding PROTOCOL_ROLE, standing in for a protocol contract."""
    account = accounts[6]
    coin.grantRole(coin.PROTOCOL_ROLE(), account, {"from": admin})
    return account


@pytest.fixture(scope="module")
def linker(coin, admin, accounts):
    """An account holding WALLET_LINKER_ROLE and PROTOCOL_ROLE, as the registry does."""
    account = accounts[7]
    coin.grantRole(coin.WALLET_LINKER_ROLE(), account, {"from": admin})
    coin.grantRole(coin.PROTOCOL_ROLE(), account, {"from": admin})
    return account


@pytest.fixture(scope="module")
def pauser(coin, admin, accounts):
    """An account holding PAUSER_ROLE but not the admin role."""
    account = accounts[8]
    coin.grantRole(coin.PAUSER_ROLE(), account, {"from": admin})
    return account


@pytest.fixture(scope="module")
def mint(coin, minter):
    """mint({holder: amount, ...}) mints in one batch and returns the transaction."""

    def _mint(amounts):
        holders = list(amounts)
        return coin.mintBatch(holders, [amounts[h] for h in holders], {"from": minter})

    return _mint
