"""Constants and builders shared by the TierRedemption tests."""

from __future__ import annotations

from tests.contracts.revert_patterns import error  # noqa: F401  (re-exported for the tests)

COIN = 10**18
MAX_UINT256 = 2**256 - 1
ZERO32 = "0x" + "00" * 32

# Status enum of ITierRedemption.
NONE, PENDING, FULFILLED, DISPUTED, REFUNDED, SETTLED = range(6)

# Catalog of scripts/config/development.yaml (ids in order of the file).
DISCOUNT, PRIORITY_SUPPORT, TEAM_CALL, EBOOK = range(4)

# What `funded` gives each of alice and bob: eight product reviews of 10 coins (lifetime 80,
# still tier 0) plus the 5-coin welcome bonus.
REVIEWS_EACH = 8
LIFETIME_EACH = REVIEWS_EACH * 10 * COIN
BALANCE_EACH = LIFETIME_EACH + 5 * COIN

# The brand of scripts/config/development.yaml, which owns every item of these tests.
BRAND = 1
OTHER_BRAND = 2

TEST_ITEM_ID = 4  # the `item` fixture's id, after the four items of the development catalog
TEST_ITEM_PRICE = 10 * COIN
TEST_ITEM_STOCK = 5


def role_id(redemption, name, brand=BRAND):
    """A role by the name the tests give it: the per-brand catalog and fulfiller roles are those
    of `brand`, the others the contract's constants."""
    if name == "CATALOG_ROLE":
        return redemption.catalogRole(brand)
    if name == "FULFILLER_ROLE":
        return redemption.fulfillerRole(brand)
    return getattr(redemption, name)()


def make_item(
    price=TEST_ITEM_PRICE,
    stock=TEST_ITEM_STOCK,
    per_customer_limit=0,
    min_tier=0,
    category=0,
    available_from=0,
    available_until=0,
    active=True,
):
    """An ITierRedemption.Item tuple."""
    return (price, stock, per_customer_limit, min_tier, category, available_from, available_until, active)




def _is_anvil(web3):
    return web3.client_version.lower().startswith("anvil")


def next_block_at(chain, web3, timestamp):
    """Makes the next transaction land in a block with exactly this timestamp.

    Anvil sets it directly. Ganache has no such call, but after a block mined at `timestamp - 1`
    its next block is one second later (unless a whole second of wall-clock time passes first;
    tests that rely on this assert the transaction's timestamp when it succeeds).
    """
    if _is_anvil(web3):
        web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    else:
        chain.mine(timestamp=timestamp - 1)


def mine_at(chain, web3, timestamp):
    """Mines an empty block with exactly this timestamp; calls then see it as `block.timestamp`.

    (brownie's `chain.mine(timestamp=...)` sends a parameter Anvil does not accept.)
    """
    if _is_anvil(web3):
        web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
        chain.mine()
    else:
        chain.mine(timestamp=timestamp)
