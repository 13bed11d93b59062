"""Fixtures for the TierRedemption suite.

Customers get coins only the way production gives them: a signed feedback batch submitted to
the registry. The module-scoped fixtures below run once per test module, before the
per-test snapshot; `funded`, `item` and `role_holders` are autouse so that every test of every module starts
from the same state whatever the order (alice and bob funded, carol with nothing, item 4,
one account per role). Fixtures a test fetches with `request.getfixturevalue` must be
module-scoped and already set up this way, or their transactions would be undone after it.
"""

from __future__ import annotations

import pytest

from oracle.kinds import FeedbackKind

from .helpers import BRAND, MAX_UINT256, REVIEWS_EACH, TEST_ITEM_ID, make_item, role_id


@pytest.fixture(scope="module")
def earn(batches):
    """Submits one signed batch of `count` records of `kind` for each customer given."""

    def earn(customers, count=1, kind=FeedbackKind.PRODUCT_REVIEW):
        records = [batches.record(customer, kind) for customer in customers for _ in range(count)]
        return batches.submit(batches.batch(records))

    return earn


@pytest.fixture(scope="module", autouse=True)
def funded(module_isolation, earn, coin, redemption, alice, bob):
    """alice and bob hold BALANCE_EACH coins (lifetime LIFETIME_EACH, tier 0) and have approved
    the redemption contract for any amount."""
    earn([alice, bob], count=REVIEWS_EACH)
    for customer in (alice, bob):
        coin.approve(redemption, MAX_UINT256, {"from": customer})
    return (alice, bob)


@pytest.fixture(scope="module", autouse=True)
def item(module_isolation, redemption, admin):
    """A plain test item: TEST_ITEM_PRICE, TEST_ITEM_STOCK units, no limit, tier 0, always on."""
    tx = redemption.addItem(BRAND, make_item(), {"from": admin})
    assert tx.return_value == TEST_ITEM_ID
    return TEST_ITEM_ID


@pytest.fixture(scope="module", autouse=True)
def role_holders(module_isolation, accounts, redemption, admin):
    """One account per operational role, each holding that role only (the admin holds all); the
    catalog and fulfiller roles are those of BRAND, the brand of every item here."""
    holders = {
        "FULFILLER_ROLE": accounts[4],
        "ARBITER_ROLE": accounts[5],
        "PAUSER_ROLE": accounts[6],
        "CATALOG_ROLE": accounts[7],
    }
    for name, account in holders.items():
        redemption.grantRole(role_id(redemption, name), account, {"from": admin})
    return holders


@pytest.fixture(scope="module")
def fulfiller(role_holders):
    return role_holders["FULFILLER_ROLE"]


@pytest.fixture(scope="module")
def arbiter(role_holders):
    return role_holders["ARBITER_ROLE"]


@pytest.fixture(scope="module")
def pauser(role_holders):
    return role_holders["PAUSER_ROLE"]


@pytest.fixture(scope="module")
def cataloguer(role_holders):
    return role_holders["CATALOG_ROLE"]


@pytest.fixture(scope="module")
def relayer(accounts):
    """Pays the gas of relayed (gasless) calls; holds no role."""
    return accounts[8]


@pytest.fixture(scope="module")
def gasless(coin, redemption, forwarder, chain):
    """Signs permits and forward requests as a customer's wallet does (tests/.../gasless.py)."""
    from .gasless import Gasless

    return Gasless(coin, redemption, forwarder, chain)


@pytest.fixture(scope="module")
def gasless_customer(earn):
    """A customer whose key is a fresh one with no ether at all: coins from a signed batch
    (BALANCE_EACH), no approval. Returns the address; the key is gasless.CUSTOMER_KEY."""
    from .gasless import CUSTOMER_KEY, address_of

    customer = address_of(CUSTOMER_KEY)
    earn([customer], count=REVIEWS_EACH)
    return customer
