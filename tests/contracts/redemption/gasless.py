"""Builds and signs what a customer signs for a gasless redemption, with the oracle's own
message builders (oracle.redeem.signed_messages.py), so every test here is also a parity test: the
oracle's EIP-712 messages verify on chain."""

from __future__ import annotations

from eth_account import Account
from eth_utils import keccak

from oracle.redeem.relay import REDEEM_GAS  # noqa: F401  (the gas the oracle signs requests with)
from oracle.redeem.signed_messages import ForwardRequest, domain_of, json_permit, sign_typed, split_signature

DISPUTE_GAS = 100_000
CUSTOMER_KEY = keccak(text="servicecoin-test-gasless-customer")
STRANGER_KEY = keccak(text="servicecoin-test-gasless-stranger")


def address_of(key: bytes) -> str:
    return Account.from_key(key).address


class Gasless:
    """What a customer's wallet signs, and what a relayer sends, in the tests."""

    def __init__(self, coin, redemption, forwarder, chain):
        self.coin = coin
        self.redemption = redemption
        self.forwarder = forwarder
        self.chain = chain

    def deadline(self, ahead=3600):
        return self.chain[-1].timestamp + ahead

    def permit_signature(self, key, value, deadline, owner=None):
        owner = owner or address_of(key)
        typed = json_permit(domain_of(self.coin.eip712Domain()), owner, self.redemption.address, value,
                            self.coin.nonces(owner), deadline)
        return sign_typed(key, typed)

    def request(self, key, to, data, deadline, gas, sender=None, nonce=None, value=0):
        """A ForwardRequest from `sender` (default: the key's address) and its signature by `key`."""
        sender = sender or address_of(key)
        request = ForwardRequest(
            sender=sender, to=str(to), gas=gas, deadline=deadline, data=bytes.fromhex(data.removeprefix("0x")),
            nonce=self.forwarder.nonces(sender) if nonce is None else nonce, value=value,
        )
        return request, sign_typed(key, request.typed_data(domain_of(self.forwarder.eip712Domain())))

    def redeem_call(self, item, max_price, deadline, permit):
        v, r, s = split_signature(permit)
        return self.redemption.redeemWithPermit.encode_input(item, max_price, deadline, v, r, s)

    def redeem_request(self, key, item, max_price, deadline=None, gas=REDEEM_GAS):
        """The permit and the forward request a customer signs to redeem `item` paying at most
        `max_price`; returns (request, request_signature, permit_signature)."""
        deadline = self.deadline() if deadline is None else deadline
        permit = self.permit_signature(key, max_price, deadline)
        request, signature = self.request(key, self.redemption, self.redeem_call(item, max_price, deadline, permit),
                                          deadline, gas)
        return request, signature, permit

    def dispute_request(self, key, redemption_id, deadline=None):
        deadline = self.deadline() if deadline is None else deadline
        return self.request(key, self.redemption, self.redemption.dispute.encode_input(redemption_id), deadline,
                            DISPUTE_GAS)

    def execute(self, request, signature, relayer, **tx):
        return self.forwarder.execute(request.as_call_argument(signature), {"from": relayer, **tx})
