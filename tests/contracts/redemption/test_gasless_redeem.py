"""Gasless redemption: a customer with no ether signs a permit and a forward request; a relayer
pays the gas; TierRedemption sees the customer as the caller (ERC-2771). Only the trusted
forwarder can speak for a customer, and only what the customer signed."""

from dataclasses import replace

import brownie
from eth_utils import keccak

from oracle.redeem.signed_messages import domain_of, recover_typed, split_signature

from .gasless import CUSTOMER_KEY, STRANGER_KEY, address_of
from .helpers import BALANCE_EACH, DISPUTED, PENDING, TEST_ITEM_PRICE, error, mine_at

COMMITMENT = keccak(text="salt|GASLESS-CODE")


def test_the_redemption_contract_trusts_only_its_forwarder(redemption, forwarder, coin, relayer):
    assert redemption.trustedForwarder() == forwarder
    assert redemption.isTrustedForwarder(forwarder)
    assert not redemption.isTrustedForwarder(relayer)
    assert not redemption.isTrustedForwarder(coin)


def test_a_customer_without_ether_redeems_and_the_relayer_pays(
    gasless, redemption, coin, forwarder, item, relayer, gasless_customer, web3
):
    assert web3.eth.get_balance(gasless_customer) == 0
    relayer_before = relayer.balance()
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    tx = gasless.execute(request, signature, relayer)

    redeemed = tx.events["Redeemed"]
    assert (redeemed["customer"], redeemed["itemId"], redeemed["price"]) == (gasless_customer, item, TEST_ITEM_PRICE)
    assert redemption.redemptionOf(redeemed["redemptionId"])[:5] == (gasless_customer, item, tx.timestamp, PENDING, TEST_ITEM_PRICE)
    assert tx.events["ExecutedForwardRequest"]["signer"] == gasless_customer
    assert tx.events["ExecutedForwardRequest"]["success"] is True
    assert coin.balanceOf(gasless_customer) == BALANCE_EACH - TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == TEST_ITEM_PRICE
    assert (forwarder.nonces(gasless_customer), coin.nonces(gasless_customer)) == (1, 1)
    assert web3.eth.get_balance(gasless_customer) == 0
    assert relayer.balance() == relayer_before - tx.gas_used * tx.gas_price


def test_a_customer_disputes_through_the_forwarder(gasless, redemption, item, relayer, fulfiller, gasless_customer, web3):
    request, signature, _ = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    redemption_id = gasless.execute(request, signature, relayer).events["Redeemed"]["redemptionId"]
    redemption.fulfil(redemption_id, COMMITMENT, {"from": fulfiller})

    request, signature = gasless.dispute_request(CUSTOMER_KEY, redemption_id)
    tx = gasless.execute(request, signature, relayer)
    assert tx.events["Disputed"]["customer"] == gasless_customer
    assert redemption.redemptionOf(redemption_id)[3] == DISPUTED
    assert web3.eth.get_balance(gasless_customer) == 0


def test_a_relayed_request_acts_only_as_its_signer(gasless, redemption, forwarder, item, relayer, fulfiller, alice):
    """A stranger's signed dispute of alice's redemption runs as the stranger, who is refused."""
    redemption_id = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice}).return_value
    redemption.fulfil(redemption_id, COMMITMENT, {"from": fulfiller})
    stranger = address_of(STRANGER_KEY)
    request, signature = gasless.dispute_request(STRANGER_KEY, redemption_id)
    with brownie.reverts(revert_pattern=error("NotRedemptionCustomer", redemption_id, stranger)):
        redemption.dispute.call(redemption_id, {"from": stranger})  # what the forwarded call meets
    # The forwarder does not bubble its call's error up: execute reverts with FailedCall.
    with brownie.reverts(revert_pattern=error("FailedCall")):
        gasless.execute(request, signature, relayer)
    assert forwarder.nonces(stranger) == 0


def test_an_appended_address_from_anyone_but_the_forwarder_is_only_data(
    redemption, coin, item, outsider, alice, fulfiller
):
    """ERC-2771's suffix is believed only from the trusted forwarder: an outsider appending
    alice's address to the call data is still the outsider."""
    redemption_id = redemption.redeem(item, TEST_ITEM_PRICE, {"from": alice}).return_value
    redemption.fulfil(redemption_id, COMMITMENT, {"from": fulfiller})
    suffix = alice.address[2:].lower()
    with brownie.reverts(revert_pattern=error("NotRedemptionCustomer", redemption_id, outsider)):
        outsider.transfer(redemption, data=redemption.dispute.encode_input(redemption_id) + suffix)
    # alice approved the redemption contract for any amount (the `funded` fixture): a redeem
    # that believed the suffix would take her coins; it charges the outsider, who has none.
    balance = coin.balanceOf(alice)
    with brownie.reverts(revert_pattern=error("ERC20InsufficientAllowance", redemption, 0, TEST_ITEM_PRICE)):
        outsider.transfer(redemption, data=redemption.redeem.encode_input(item, TEST_ITEM_PRICE) + suffix)
    assert coin.balanceOf(alice) == balance


def test_a_front_run_permit_does_not_block_the_relayed_redemption(
    gasless, coin, redemption, item, relayer, outsider, gasless_customer
):
    request, signature, permit = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    # Someone copies the permit out of the pending relay and submits it first.
    v, r, s = split_signature(permit)
    coin.permit(gasless_customer, redemption, TEST_ITEM_PRICE, gasless.deadline(), v, r, s, {"from": outsider})
    assert coin.allowance(gasless_customer, redemption) == TEST_ITEM_PRICE
    tx = gasless.execute(request, signature, relayer)
    assert tx.events["Redeemed"]["customer"] == gasless_customer
    assert coin.balanceOf(gasless_customer) == BALANCE_EACH - TEST_ITEM_PRICE


def test_a_relayer_cannot_raise_the_signed_maximum_price(gasless, forwarder, item, relayer, gasless_customer):
    request, signature, permit = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE)
    deadline = request.deadline
    raised = replace(request, data=bytes.fromhex(gasless.redeem_call(item, 2 * TEST_ITEM_PRICE, deadline, permit)[2:]))
    recovered = recover_typed(raised.typed_data(domain_of(forwarder.eip712Domain())), signature)
    assert recovered != gasless_customer
    with brownie.reverts(revert_pattern=error("ERC2771ForwarderInvalidSigner", recovered, gasless_customer)):
        gasless.execute(raised, signature, relayer)
    assert forwarder.nonces(gasless_customer) == 0


def test_a_price_rise_above_the_signed_maximum_stops_the_relayed_redemption(
    gasless, redemption, forwarder, coin, item, relayer, cataloguer, gasless_customer, chain, web3
):
    request, signature, permit = gasless.redeem_request(CUSTOMER_KEY, item, TEST_ITEM_PRICE, deadline=gasless.deadline(30 * 86400))
    effective_at = redemption.announcePrice(item, TEST_ITEM_PRICE + 1, {"from": cataloguer}).events[
        "PriceChangeAnnounced"]["effectiveAt"]
    mine_at(chain, web3, effective_at)
    v, r, s = split_signature(permit)
    with brownie.reverts(revert_pattern=error("PriceAboveMaximum", item, TEST_ITEM_PRICE + 1, TEST_ITEM_PRICE)):
        redemption.redeemWithPermit.call(item, TEST_ITEM_PRICE, request.deadline, v, r, s, {"from": gasless_customer})
    with brownie.reverts(revert_pattern=error("FailedCall")):
        gasless.execute(request, signature, relayer)
    assert coin.balanceOf(gasless_customer) == BALANCE_EACH
    assert forwarder.nonces(gasless_customer) == 0
