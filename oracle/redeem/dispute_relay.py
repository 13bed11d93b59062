"""Gasless disputes: a customer disputes a delivery without holding ether.

Only the address that redeemed may dispute (TierRedemption.dispute), so the customer signs an
ERC-2771 forward request for `dispute(redemptionId)` and the operations account relays it
through the ServiceCoinForwarder, as for a redemption (oracle/redeem/relay.py). For a customer
with their own wallet, the brand's app fetches the request to sign and posts the signature
(oracle/redeem/relay_http.py); for a custodial customer, whose address is a key the brand
holds, `servicecoin dispute` signs with that key.

As for redemptions, the relay never takes a request as given: it rebuilds it from the order
(customer, redemption, deadline) with the forwarder's current nonce, its own target, function
and gas, and requires the signature to recover to the customer. It simulates the dispute as
the customer first: one the contract would refuse (not their redemption, not delivered yet,
the window closed) is refused with the contract's error and costs nothing. An arbiter then
decides, as for any dispute (`servicecoin redemption refund|reject-dispute`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from oracle.redeem.fulfiller import REDEMPTION_BRAND, REDEMPTION_ITEM
from oracle.redeem.relay import (
    CUSTODIAL_DEADLINE_SECONDS,
    MAX_UINT256,
    InvalidRedemptionOrder,
    RedeemRelay,
    RelayError,
    check_uints,
    checked_customer,
    require_signer,
)
from oracle.redeem.signed_messages import MAX_UINT48, ForwardRequest, sign_typed

log = logging.getLogger(__name__)

# The gas the customer signs for the dispute call, with a wide margin: it rewrites one status
# slot (a direct `dispute` transaction uses 37,929 gas in all, base fee included:
# snapshots/gas.json). The forwarder gives the call exactly this or runs nothing.
DISPUTE_GAS = 100_000


@dataclass(frozen=True)
class DisputeOrder:
    """The customer disputes `redemption_id`; the request is valid until `deadline` (the chain's clock)."""

    customer: str
    redemption_id: int
    deadline: int

    @classmethod
    def checked(cls, customer: str, redemption_id: int, deadline: int) -> "DisputeOrder":
        check_uints(("redemption_id", redemption_id, MAX_UINT256), ("deadline", deadline, MAX_UINT48))
        return cls(checked_customer(customer), redemption_id, deadline)


@dataclass(frozen=True)
class PreparedDispute:
    """A dispute that passed every check and simulation; `send` it to spend the gas."""

    order: DisputeOrder
    request: ForwardRequest
    signature: bytes


@dataclass(frozen=True)
class FiledDispute:
    redemption_id: int
    customer: str
    tx_hash: str
    gas_used: int


class DisputeRelay:
    """Relays signed disputes through the forwarder, from the redemption relay's operations account."""

    def __init__(self, relay: RedeemRelay, request_gas: int = DISPUTE_GAS) -> None:
        self.relay = relay
        self.request_gas = request_gas

    def typed_data_for(self, customer: str, redemption_id: int, deadline: int) -> dict[str, Any]:
        """The forward request the customer's wallet signs (eth_signTypedData_v4). A dispute the
        contract would refuse now is refused here, before the customer is asked to sign."""
        order = DisputeOrder.checked(customer, redemption_id, deadline)
        self._require_ours(order.redemption_id)
        self.relay.require_time_left(order.deadline)
        nonce = self.relay.forwarder.functions.nonces(order.customer).call()
        request = self._request(order, nonce)
        self.relay.simulate_as_customer(request, "dispute")
        return request.typed_data(self.relay.forwarder_domain())

    def _require_ours(self, redemption_id: int) -> None:
        """The brand pays gas only for disputes of its own redemptions: of its brand on chain, and
        of chain.catalog_items when set. An unknown redemption is left to the simulation, which
        names its error."""
        if self.relay.items is None and self.relay.brand_id is None:
            return
        try:
            on_chain = self.relay.redemption.functions.redemptionOf(redemption_id).call()
        except ContractLogicError:
            return
        item_id = int(on_chain[REDEMPTION_ITEM])
        if self.relay.items is not None and item_id not in self.relay.items:
            raise InvalidRedemptionOrder(f"redemption {redemption_id} is of item {item_id}, not one of this "
                                         "brand's catalog items")
        self.relay.require_brand(int(on_chain[REDEMPTION_BRAND]), f"redemption {redemption_id}")

    def _request(self, order: DisputeOrder, nonce: int) -> ForwardRequest:
        redemption = self.relay.redemption
        data = bytes.fromhex(redemption.functions.dispute(order.redemption_id)._encode_transaction_data()[2:])
        return ForwardRequest(order.customer, redemption.address, self.request_gas, nonce, order.deadline, data)

    def prepare(self, order: DisputeOrder, signature: bytes) -> PreparedDispute:
        """Every check that needs no gas: deadline, the signature, the contract's own rules
        (simulated as the customer) and the forwarder's verify."""
        relay = self.relay
        self._require_ours(order.redemption_id)
        domain = relay.forwarder_domain()
        relay.require_time_left(order.deadline)
        nonce = relay.forwarder.functions.nonces(order.customer).call()
        require_signer("request", order.customer, signature, nonce,
                       lambda n: self._request(order, n).typed_data(domain))
        request = self._request(order, nonce)
        relay.simulate_as_customer(request, "dispute")
        relay.require_verified(request, signature)
        return PreparedDispute(order, request, signature)

    def in_flight(self, prepared: PreparedDispute) -> bool:
        """Whether an earlier attempt sent this dispute and is still awaited (see RedeemRelay)."""
        return self.relay.in_flight(prepared.request, prepared.signature)

    def send(self, prepared: PreparedDispute) -> FiledDispute:
        """Sends the forward request from the operations account; returns the filed dispute."""
        relay, order = self.relay, prepared.order
        what = f"dispute of redemption {order.redemption_id} for {order.customer}"
        receipt = relay.execute(prepared.request, prepared.signature, what)
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        for event in relay.redemption.events.Disputed().process_receipt(receipt, errors=DISCARD):
            args = event["args"]
            if event["address"] == relay.redemption.address and args["redemptionId"] == order.redemption_id:
                log.info("dispute relayed", extra={"redemption_id": order.redemption_id, "customer": order.customer,
                                                   "tx": tx_hash})
                return FiledDispute(order.redemption_id, to_checksum_address(args["customer"]), tx_hash,
                                    int(receipt["gasUsed"]))
        raise RelayError(f"{what}: mined without a Disputed event (tx {tx_hash})")

    def for_custodial(self, account: LocalAccount, redemption_id: int) -> FiledDispute:
        """Signs the request with a custodial key the brand holds, and relays it."""
        deadline = int(self.relay.w3.eth.get_block("latest")["timestamp"]) + CUSTODIAL_DEADLINE_SECONDS
        order = DisputeOrder.checked(str(account.address), redemption_id, deadline)
        nonce = self.relay.forwarder.functions.nonces(order.customer).call()
        signature = sign_typed(account.key, self._request(order, nonce).typed_data(self.relay.forwarder_domain()))
        return self.send(self.prepare(order, signature))
