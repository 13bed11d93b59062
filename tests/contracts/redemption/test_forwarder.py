"""ServiceCoinForwarder (OpenZeppelin's ERC2771Forwarder): what it refuses to relay.

Each refusal is asserted by its custom error and leaves the customer's forwarder nonce, coins
and allowance as they were, so the customer's genuine request can still be relayed after it.
"""

from dataclasses import replace

import brownie
import pytest

from oracle.redeem.signed_messages import domain_of, recover_typed

from .gasless import CUSTOMER_KEY, REDEEM_GAS, STRANGER_KEY, address_of
from .helpers import BALANCE_EACH, MAX_UINT256, TEST_ITEM_PRICE, error


@pytest.fixture
def untouched(coin, redemption, forwarder, gasless_customer):
    """After the test: the customer's nonce, coins and allowance are as they were."""
    yield
    assert forwarder.nonces(gasless_customer) == 0
    assert coin.balanceOf(gasless_customer) == BALANCE_EACH
    assert coin.allowance(gasless_customer, redemption) == 0
    assert redemption.redemptionCount() == 0


def test_the_domain_is_the_servicecoin_forwarder(forwarder, chain):
    _, name, version, chain_id, verifying_contract, _, _ = forwarder.eip712Domain()
    assert (name, version, chain_id, verifying_contract) == ("ServiceCoin Forwarder", "1", chain.id, forwarder.address)


def test_a_genuine_request_verifies(gasless, forwarder, item):
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    assert forwarder.verify(request.as_call_argument(signature))


def test_a_request_signed_by_someone_else_is_refused(gasless, forwarder, item, relayer, gasless_customer, untouched):
    deadline = gasless.deadline()
    permit = gasless.permit_signature(CUSTOMER_KEY, TEST_ITEM_PRICE, deadline)
    data = gasless.redeem_call(item, TEST_ITEM_PRICE, deadline, permit)
    request, signature = gasless.request(STRANGER_KEY, gasless.redemption, data, deadline, REDEEM_GAS,
                                         sender=gasless_customer)
    assert not forwarder.verify(request.as_call_argument(signature))
    with brownie.reverts(revert_pattern=error("ERC2771ForwarderInvalidSigner", address_of(STRANGER_KEY), gasless_customer)):
        gasless.execute(request, signature, relayer)


def test_a_request_is_relayed_once(gasless, forwarder, coin, item, relayer, gasless_customer):
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, 3 * TEST_ITEM_PRICE)
    gasless.execute(request, signature, relayer)
    assert forwarder.nonces(gasless_customer) == 1
    # The nonce is part of the signed struct: with the next nonce the signature recovers to
    # some other address, which is what the forwarder reports.
    replayed = replace(request, nonce=1)
    recovered = recover_typed(replayed.typed_data(domain_of(forwarder.eip712Domain())), signature)
    assert not forwarder.verify(request.as_call_argument(signature))
    with brownie.reverts(revert_pattern=error("ERC2771ForwarderInvalidSigner", recovered, gasless_customer)):
        gasless.execute(request, signature, relayer)
    # The permit allowed three prices: only the one redemption happened.
    assert coin.balanceOf(gasless_customer) == BALANCE_EACH - TEST_ITEM_PRICE
    assert forwarder.nonces(gasless_customer) == 1


def test_an_expired_request_is_refused(gasless, forwarder, item, relayer, chain, untouched):
    deadline = chain[-1].timestamp - 1  # already past for the next block
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE, deadline=deadline)
    assert not forwarder.verify(request.as_call_argument(signature))
    with brownie.reverts(revert_pattern=error("ERC2771ForwarderExpiredRequest", deadline)):
        gasless.execute(request, signature, relayer)


def test_a_target_that_does_not_trust_the_forwarder_is_refused(gasless, forwarder, coin, redemption, relayer, untouched):
    # The coin is no ERC-2771 recipient: a signed approve relayed to it must not run at all
    # (else the forwarder would approve from its own address, or the coin would misread the data).
    data = coin.approve.encode_input(redemption, MAX_UINT256)
    request, signature = gasless.request(CUSTOMER_KEY, coin, data, gasless.deadline(), REDEEM_GAS)
    assert not forwarder.verify(request.as_call_argument(signature))
    with brownie.reverts(revert_pattern=error("ERC2771UntrustfulTarget", coin, forwarder)):
        gasless.execute(request, signature, relayer)


def test_value_other_than_the_signed_value_is_refused(gasless, item, relayer, untouched):
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    with brownie.reverts(revert_pattern=error("ERC2771ForwarderMismatchedValue", 0, 1)):
        gasless.execute(request, signature, relayer, value=1)


def test_a_changed_gas_limit_breaks_the_signature(gasless, item, relayer, untouched):
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    cheaper = replace(request, gas=50_000)
    recovered = recover_typed(cheaper.typed_data(domain_of(gasless.forwarder.eip712Domain())), signature)
    with brownie.reverts(revert_pattern=error("ERC2771ForwarderInvalidSigner", recovered, request.sender)):
        gasless.execute(cheaper, signature, relayer)


def test_a_relayer_starving_the_call_of_gas_cannot_burn_the_request(
    gasless, forwarder, coin, redemption, item, relayer, gasless_customer
):
    """In a non-atomic batch a failed call would still use the nonce. A relayer that forwards
    less than the signed gas so that the call runs out must not get that far: the forwarder
    then fails the whole transaction (OpenZeppelin's _checkForwardedGas, an `invalid` opcode
    that consumes all gas), the nonce stays unused and the request can still be relayed."""
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    starved = 150_000  # enough to reach the call, far less than the signed REDEEM_GAS for it
    with pytest.raises(brownie.exceptions.VirtualMachineError):
        forwarder.executeBatch([request.as_call_argument(signature)], relayer,
                               {"from": relayer, "gas_limit": starved, "allow_revert": True})
    tx = brownie.history[-1]
    assert (tx.fn_name, tx.status) == ("executeBatch", 0)
    assert tx.gas_used == starved  # all of it: the `invalid` opcode, not a cheap revert
    assert forwarder.nonces(gasless_customer) == 0
    assert redemption.redemptionCount() == 0
    gasless.execute(request, signature, relayer)
    assert coin.balanceOf(gasless_customer) == BALANCE_EACH - TEST_ITEM_PRICE
