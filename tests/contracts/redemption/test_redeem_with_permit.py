"""redeemWithPermit: an EIP-2612 permit signed by the customer replaces the approve transaction."""

import brownie
import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.typed_data import Domain, permit_typed_data
from oracle.typed_data import sign_permit as sign_permit_message

from .helpers import BALANCE_EACH, PENDING, REVIEWS_EACH, TEST_ITEM_PRICE, error

CUSTOMER_KEY = keccak(text="servicecoin-test-permit-customer")
STRANGER_KEY = keccak(text="servicecoin-test-permit-stranger")

@pytest.fixture(scope="module")
def customer(accounts, admin, earn):
    """A customer whose key is held here: ether for gas, coins from a signed batch, no approval."""
    account = accounts.add(CUSTOMER_KEY)
    admin.transfer(account, 10**18)
    earn([account], count=REVIEWS_EACH)
    return account


def sign_permit(coin, spender, value, deadline, key=CUSTOMER_KEY, owner=None):
    """(v, r, s) of an EIP-2612 permit, in the coin's own EIP-712 domain."""
    owner = owner or Account.from_key(key).address
    _, name, version, chain_id, verifying_contract, _, _ = coin.eip712Domain()
    domain = Domain(chain_id=chain_id, verifying_contract=verifying_contract, name=name, version=version)
    typed = permit_typed_data(domain, owner, str(spender), value, coin.nonces(owner), deadline)
    return sign_permit_message(key, typed)


def test_customer_starts_with_coins_and_no_allowance(coin, redemption, customer):
    assert coin.balanceOf(customer) == BALANCE_EACH
    assert coin.allowance(customer, redemption) == 0


def test_redeem_with_permit_redeems_without_an_approve(redemption, coin, chain, item, customer):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(coin, redemption, TEST_ITEM_PRICE, deadline)
    tx = redemption.redeemWithPermit(item, TEST_ITEM_PRICE, deadline, v, r, s, {"from": customer})
    assert tx.events["Redeemed"]["customer"] == customer
    assert tx.events["Redeemed"]["price"] == TEST_ITEM_PRICE
    assert redemption.redemptionOf(tx.return_value)[:5] == (customer, item, tx.timestamp, PENDING, TEST_ITEM_PRICE)
    assert coin.balanceOf(customer) == BALANCE_EACH - TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == TEST_ITEM_PRICE


def test_redeem_with_permit_uses_the_permit_nonce(redemption, coin, chain, item, customer):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(coin, redemption, TEST_ITEM_PRICE, deadline)
    redemption.redeemWithPermit(item, TEST_ITEM_PRICE, deadline, v, r, s, {"from": customer})
    assert coin.nonces(customer) == 1
    assert coin.allowance(customer, redemption) == 0


def test_allowance_above_the_price_is_left_over(redemption, coin, chain, item, customer):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(coin, redemption, 3 * TEST_ITEM_PRICE, deadline)
    redemption.redeemWithPermit(item, 3 * TEST_ITEM_PRICE, deadline, v, r, s, {"from": customer})
    assert coin.allowance(customer, redemption) == 2 * TEST_ITEM_PRICE


def test_permit_front_run_by_someone_else_still_redeems(redemption, coin, chain, item, customer, outsider):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(coin, redemption, TEST_ITEM_PRICE, deadline)
    coin.permit(customer, redemption, TEST_ITEM_PRICE, deadline, v, r, s, {"from": outsider})
    tx = redemption.redeemWithPermit(item, TEST_ITEM_PRICE, deadline, v, r, s, {"from": customer})
    assert tx.events["Redeemed"]["customer"] == customer
    assert coin.balanceOf(customer) == BALANCE_EACH - TEST_ITEM_PRICE


def test_permit_signed_by_another_key_does_not_authorise(redemption, coin, chain, item, customer):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(coin, redemption, TEST_ITEM_PRICE, deadline, key=STRANGER_KEY, owner=customer.address)
    with brownie.reverts(revert_pattern=error("ERC20InsufficientAllowance", redemption, 0, TEST_ITEM_PRICE)):
        redemption.redeemWithPermit(item, TEST_ITEM_PRICE, deadline, v, r, s, {"from": customer})
    assert coin.balanceOf(customer) == BALANCE_EACH


def test_expired_permit_does_not_authorise(redemption, coin, chain, item, customer):
    deadline = chain[-1].timestamp - 1  # already past for the next block
    v, r, s = sign_permit(coin, redemption, TEST_ITEM_PRICE, deadline)
    with brownie.reverts(revert_pattern=error("ERC20InsufficientAllowance", redemption, 0, TEST_ITEM_PRICE)):
        redemption.redeemWithPermit(item, TEST_ITEM_PRICE, deadline, v, r, s, {"from": customer})
    assert coin.nonces(customer) == 0


def test_someone_else_cannot_spend_the_customers_permit(redemption, coin, chain, item, customer, outsider):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(coin, redemption, TEST_ITEM_PRICE, deadline)
    # the permit is tried for the caller (outsider), for whom the signature is not valid
    with brownie.reverts(revert_pattern=error("ERC20InsufficientAllowance", redemption, 0, TEST_ITEM_PRICE)):
        redemption.redeemWithPermit(item, TEST_ITEM_PRICE, deadline, v, r, s, {"from": outsider})
    assert coin.balanceOf(customer) == BALANCE_EACH
    assert coin.allowance(customer, redemption) == 0


def test_price_above_the_permitted_maximum_reverts_and_keeps_the_nonce(redemption, coin, chain, item, customer):
    deadline = chain.time() + 3600
    low = TEST_ITEM_PRICE - 1
    v, r, s = sign_permit(coin, redemption, low, deadline)
    with brownie.reverts(revert_pattern=error("PriceAboveMaximum", item, TEST_ITEM_PRICE, low)):
        redemption.redeemWithPermit(item, low, deadline, v, r, s, {"from": customer})
    assert coin.nonces(customer) == 0
    assert coin.allowance(customer, redemption) == 0
