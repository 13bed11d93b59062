"""Gasless redemption: the oracle relays a redemption its customer signed, paying the gas from
its operations account, or signs one itself for a custodial customer.

A customer signs two EIP-712 messages (oracle/redeem/signed_messages.py): an EIP-2612 permit
letting TierRedemption take up to `max_price` coins, then an ERC-2771 forward request asking the
ServiceCoinForwarder to call `redeemWithPermit(item, max_price, deadline, permit)` as them. The
relay never takes a request as given: it rebuilds both messages from the order (customer, item,
maximum price, deadline) with the chain's current nonces, its own target, function and gas
limit, and requires both signatures to recover to the customer. So a caller of the relay cannot
make the brand pay for anything but a redemption the customer signed, and the signed maximum
price and item are exactly what runs on chain.

Before anything is sent, the redemption is simulated as the customer (eth_call): a redemption
the contract would refuse (price above the maximum, out of stock, tier too low, ...) is refused
here with the contract's error and costs no gas. `prepare` does every check; `send` spends gas;
the HTTP endpoint counts a customer's relays between the two (oracle/redeem/relay_http.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from oracle.abi import load_abi
from oracle.chain.ops_sender import OpsBusy, OpsNonceTaken, OpsRejected, OpsSender, OpsTimeout
from oracle.chain.reverts import DecodedRevert, decode_revert
from oracle.chain.submitter import revert_data
from oracle.config import ConfigError
from oracle.errors import OracleError
from oracle.redeem.signed_messages import (
    MAX_UINT48,
    ForwardRequest,
    SignatureFormatError,
    domain_of,
    json_permit,
    recover_typed,
    sign_typed,
    split_signature,
)
from oracle.typed_data import Domain

log = logging.getLogger(__name__)

# The gas the customer signs for the redemption call: a first redemption (fresh storage slots,
# the permit) uses ~150,000; the forwarder guarantees the call gets all of it or nothing runs.
REDEEM_GAS = 400_000
# A request must stay valid while its transaction waits for a block (and its confirmations).
MIN_SECONDS_LEFT = 60
# How long a custodial redemption the oracle signs for itself stays valid.
CUSTODIAL_DEADLINE_SECONDS = 900
MAX_UINT256 = 2**256 - 1


class RelayError(OracleError):
    """A redemption the relay will not send; the message says why. Nothing was spent."""


class InvalidRedemptionOrder(RelayError):
    """A field of the order is malformed (an address, an amount, a signature)."""


class SignatureMismatch(RelayError):
    """A signature does not recover to the customer for this order."""


class RequestExpired(RelayError):
    """The order's deadline has passed (or is too close to be mined in time)."""


class StaleSignature(RelayError):
    """The signature was made for a nonce the customer has used since: it was relayed already
    (or another permit or request of theirs was); they must sign again."""


class RedemptionRefused(RelayError):
    """The contract would refuse (or refused) the redemption; `revert` is its error."""

    def __init__(self, message: str, revert: DecodedRevert | None) -> None:
        super().__init__(message)
        self.revert = revert


class RelayUnavailable(RelayError):
    """The transaction could not be confirmed in time (it may still be mined: do not resend)."""


class RelayNothingSent(RelayUnavailable):
    """The operations account stayed busy with another transaction for the whole wait: nothing
    was sent, so the customer's use of the relay does not count."""


@dataclass(frozen=True)
class RedemptionOrder:
    """What the customer asks for: one unit of `item_id`, paying at most `max_price` coin units,
    valid until `deadline` (unix seconds, the chain's clock)."""

    customer: str
    item_id: int
    max_price: int
    deadline: int

    @classmethod
    def checked(cls, customer: str, item_id: int, max_price: int, deadline: int) -> "RedemptionOrder":
        check_uints(("item_id", item_id, MAX_UINT256), ("max_price", max_price, MAX_UINT256),
                    ("deadline", deadline, MAX_UINT48))
        return cls(checked_customer(customer), item_id, max_price, deadline)


def checked_customer(customer: str) -> str:
    """The customer's address, checksummed; refuses a malformed one or a wrong EIP-55 checksum."""
    if not isinstance(customer, str) or not is_hex_address(customer):
        raise InvalidRedemptionOrder(f"customer {customer!r} is not an address (0x and 40 hex digits)")
    if customer != customer.lower() and not is_checksum_address(customer):
        raise InvalidRedemptionOrder(f"customer {customer} has a wrong EIP-55 checksum (a typo?)")
    return to_checksum_address(customer)


def check_uints(*fields: tuple[str, Any, int]) -> None:
    """Each (name, value, top) must be an integer (not a bool) between 0 and top."""
    for name, value, top in fields:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise InvalidRedemptionOrder(f"{name} must be an integer between 0 and {top}, got {value!r}")


@dataclass(frozen=True)
class SignedRedemption:
    order: RedemptionOrder
    permit_signature: bytes
    request_signature: bytes


@dataclass(frozen=True)
class RedemptionMessages:
    """The EIP-712 messages a customer's wallet signs (eth_signTypedData_v4), permit first: the
    forward request carries the permit's signature, so it exists only once the permit is signed."""

    permit: dict[str, Any]
    request: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {"permit": self.permit, "request": self.request}


@dataclass(frozen=True)
class PreparedRelay:
    """A relay that passed every check and simulation; `send` it to spend the gas."""

    order: RedemptionOrder
    request: ForwardRequest
    request_signature: bytes
    price: int


@dataclass(frozen=True)
class RelayedRedemption:
    redemption_id: int
    tx_hash: str
    customer: str
    item_id: int
    price: int
    gas_used: int


class RedeemRelay:
    """Relays signed redemptions through the ServiceCoinForwarder from the operations account."""

    def __init__(
        self, w3: Web3, redemption: str, forwarder: str, sender: OpsSender, request_gas: int = REDEEM_GAS,
        items: frozenset[int] | None = None, brand_id: int | None = None,
    ) -> None:
        self.w3 = w3
        # The brand pays the gas of what it relays, so only for its own perks: items of its brand
        # on chain (brand_id), and of those only chain.catalog_items when set. Both None: every item.
        self.items = items
        self.brand_id = brand_id
        self.redemption = w3.eth.contract(address=to_checksum_address(redemption), abi=load_abi("TierRedemption"))
        self.forwarder = w3.eth.contract(address=to_checksum_address(forwarder), abi=load_abi("ServiceCoinForwarder"))
        self.sender = sender
        self.request_gas = request_gas
        self._domains: tuple[Any, Domain, Domain] | None = None

    # ------------------------------------------------------------ set-up

    def _setup(self) -> tuple[Any, Domain, Domain]:
        """The coin and both EIP-712 domains, read from the contracts once (they never change);
        refuses a redemption contract that does not trust this forwarder."""
        if self._domains is None:
            for name, contract in (("chain.redemption", self.redemption), ("chain.forwarder", self.forwarder)):
                if not self.w3.eth.get_code(contract.address):
                    raise ConfigError(f"{name}: no contract at {contract.address} on this chain")
            if not self.redemption.functions.isTrustedForwarder(self.forwarder.address).call():
                trusted = self.redemption.functions.trustedForwarder().call()
                raise ConfigError(
                    f"chain.forwarder: TierRedemption {self.redemption.address} trusts {trusted}, "
                    f"not {self.forwarder.address}"
                )
            coin = self.w3.eth.contract(address=self.redemption.functions.coin().call(), abi=load_abi("ServiceCoin"))
            self._domains = (
                coin,
                domain_of(coin.functions.eip712Domain().call()),
                domain_of(self.forwarder.functions.eip712Domain().call()),
            )
        return self._domains

    def _require_ours(self, item_id: int) -> None:
        if self.items is not None and item_id not in self.items:
            raise InvalidRedemptionOrder(f"item {item_id} is not one of this brand's catalog items "
                                         f"({', '.join(str(i) for i in sorted(self.items))})")
        if self.brand_id is None:
            return
        try:
            owner = int(self.redemption.functions.itemBrand(item_id).call())
        except ContractLogicError:
            return  # no such item: the simulation names the contract's error
        self.require_brand(owner, f"item {item_id}")

    def require_brand(self, owner: int, what: str) -> None:
        """Refuses what belongs to another brand than this oracle's (None: any brand)."""
        if self.brand_id is not None and owner != self.brand_id:
            raise InvalidRedemptionOrder(f"{what} is brand {owner}'s, not this oracle's brand {self.brand_id}")

    def require_time_left(self, deadline: int) -> None:
        """A relayed request must stay valid while its transaction waits for a block."""
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        if deadline < now + MIN_SECONDS_LEFT:
            raise RequestExpired(
                f"the deadline {deadline} is {'past' if deadline < now else 'too close'} "
                f"(chain time {now}; a relayed request needs at least {MIN_SECONDS_LEFT} s left): sign again"
            )

    def forwarder_domain(self) -> Domain:
        """The forwarder's EIP-712 domain, for other requests relayed through it."""
        return self._setup()[2]

    def price_of(self, item_id: int) -> int:
        """The price a redemption of the item pays now (ItemNotFound for an unknown item)."""
        try:
            return int(self.redemption.functions.priceOf(item_id).call())
        except ContractLogicError as exc:
            decoded = decode_revert(revert_data(exc))
            raise RedemptionRefused(f"item {item_id}: {decoded or exc}", decoded) from None

    # ------------------------------------------------------------ what the customer signs

    def typed_data_for(
        self, customer: str, item_id: int, max_price: int, deadline: int, permit_signature: bytes | None = None
    ) -> RedemptionMessages:
        """The permit for this order, and once its signature is given, the forward request. A
        deadline the relay would refuse is refused here, before the customer is asked to sign."""
        order = RedemptionOrder.checked(customer, item_id, max_price, deadline)
        self._require_ours(order.item_id)
        self.require_time_left(order.deadline)
        coin, coin_domain, forwarder_domain = self._setup()
        permit = self._permit(order, coin.functions.nonces(order.customer).call(), coin_domain)
        if permit_signature is None:
            return RedemptionMessages(permit, None)
        nonce = self.forwarder.functions.nonces(order.customer).call()
        return RedemptionMessages(permit, self._request(order, permit_signature, nonce).typed_data(forwarder_domain))

    def _permit(self, order: RedemptionOrder, nonce: int, domain: Domain) -> dict[str, Any]:
        return json_permit(domain, order.customer, self.redemption.address, order.max_price, nonce, order.deadline)

    def _request(self, order: RedemptionOrder, permit_signature: bytes, nonce: int) -> ForwardRequest:
        if len(permit_signature) != 65:
            raise InvalidRedemptionOrder(f"permit_signature: a signature is 65 bytes, got {len(permit_signature)}")
        v, r, s = split_signature(permit_signature)
        call = self.redemption.functions.redeemWithPermit(order.item_id, order.max_price, order.deadline, v, r, s)
        data = bytes.fromhex(call._encode_transaction_data()[2:])
        return ForwardRequest(order.customer, self.redemption.address, self.request_gas, nonce, order.deadline, data)

    # ------------------------------------------------------------ relaying

    def relay(self, signed: SignedRedemption) -> RelayedRedemption:
        return self.send(self.prepare(signed))

    def prepare(self, signed: SignedRedemption) -> PreparedRelay:
        """Every check that needs no gas: deadline, both signatures, the contract's own rules
        (simulated as the customer) and the forwarder's verify."""
        order = signed.order
        self._require_ours(order.item_id)
        coin, coin_domain, forwarder_domain = self._setup()
        self.require_time_left(order.deadline)
        permit_nonce = coin.functions.nonces(order.customer).call()
        require_signer(
            "permit", order.customer, signed.permit_signature, permit_nonce,
            lambda nonce: self._permit(order, nonce, coin_domain),
        )
        request_nonce = self.forwarder.functions.nonces(order.customer).call()
        request = self._request(order, signed.permit_signature, request_nonce)
        require_signer(
            "request", order.customer, signed.request_signature, request_nonce,
            lambda nonce: self._request(order, signed.permit_signature, nonce).typed_data(forwarder_domain),
        )
        self.simulate_as_customer(request, "redemption")
        price = int(self.redemption.functions.priceOf(order.item_id).call())
        self.require_verified(request, signed.request_signature)
        return PreparedRelay(order, request, signed.request_signature, price)

    def simulate_as_customer(self, request: ForwardRequest, what: str) -> None:
        """Runs the request's call as the customer without sending it: a call the contract would
        refuse raises RedemptionRefused with its error, before any gas is spent."""
        try:
            self.w3.eth.call({"from": request.sender, "to": request.to, "data": request.data})  # type: ignore[typeddict-item]
        except ContractLogicError as exc:
            decoded = decode_revert(revert_data(exc))
            raise RedemptionRefused(f"the {what} would revert: {decoded or exc}", decoded) from None

    def require_verified(self, request: ForwardRequest, signature: bytes) -> None:
        """The forwarder's own check, last before sending: signer, nonce, deadline, target."""
        if not self.forwarder.functions.verify(request.as_call_argument(signature)).call():
            raise RelayError(f"the forwarder does not verify the request of {request.sender} (its nonce moved?)")

    def _execute_call(self, request: ForwardRequest, signature: bytes) -> Any:
        return self.forwarder.functions.execute(request.as_call_argument(signature))

    def in_flight(self, request: ForwardRequest, signature: bytes) -> bool:
        """Whether this forward request was sent and is still awaited (an earlier attempt
        answered 503): sending it again waits for that transaction and spends nothing new."""
        return self.sender.call_in_flight(self._execute_call(request, signature))

    def execute(self, request: ForwardRequest, signature: bytes, what: str) -> Any:
        """Sends a signed forward request from the operations account; returns the receipt."""
        try:
            return self.sender.send_call(self._execute_call(request, signature), what)
        except OpsRejected as exc:
            if exc.revert is not None and exc.revert.name == "ERC2771ForwarderInvalidSigner":
                raise StaleSignature(f"{what}: the request was relayed meanwhile (its nonce is used)") from None
            if exc.revert is not None and exc.revert.name == "FailedCall":
                # The forwarder hides its call's error. The state moved since prepare's
                # simulation (the item sold out, the catalog changed it): simulating the call
                # again as the customer names the contract's own error.
                self.simulate_as_customer(request, what)
            raise RedemptionRefused(str(exc), exc.revert) from None
        except OpsBusy as exc:
            raise RelayNothingSent(str(exc)) from None
        except (OpsTimeout, OpsNonceTaken) as exc:
            raise RelayUnavailable(str(exc)) from None

    def send(self, prepared: PreparedRelay) -> RelayedRedemption:
        """Sends the forward request from the operations account; returns the redemption."""
        order = prepared.order
        what = f"relayed redemption of item {order.item_id} for {order.customer}"
        receipt = self.execute(prepared.request, prepared.request_signature, what)
        for event in self.redemption.events.Redeemed().process_receipt(receipt, errors=DISCARD):
            if event["address"] == self.redemption.address and event["args"]["customer"] == order.customer:
                args = event["args"]
                tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
                log.info("gasless redemption relayed",
                         extra={"redemption_id": args["redemptionId"], "customer": order.customer, "tx": tx_hash})
                return RelayedRedemption(int(args["redemptionId"]), tx_hash, order.customer, int(args["itemId"]),
                                         int(args["price"]), int(receipt["gasUsed"]))
        raise RelayError(f"{what}: mined without a Redeemed event (tx 0x{bytes(receipt['transactionHash']).hex()})")

    # ------------------------------------------------------------ custodial customers

    def redeem_for_custodial(
        self, account: LocalAccount, item_id: int, max_price: int, deadline: int | None = None
    ) -> RelayedRedemption:
        """Signs both messages with a custodial key the brand holds, and relays them."""
        if deadline is None:
            deadline = int(self.w3.eth.get_block("latest")["timestamp"]) + CUSTODIAL_DEADLINE_SECONDS
        customer = str(account.address)
        messages = self.typed_data_for(customer, item_id, max_price, deadline)
        permit_signature = sign_typed(account.key, messages.permit)
        messages = self.typed_data_for(customer, item_id, max_price, deadline, permit_signature)
        assert messages.request is not None  # given the permit signature, the request exists
        request_signature = sign_typed(account.key, messages.request)
        order = RedemptionOrder.checked(customer, item_id, max_price, deadline)
        return self.relay(SignedRedemption(order, permit_signature, request_signature))


def require_signer(what: str, customer: str, signature: bytes, nonce: int, message_for: Any) -> None:
    """The signature must be the customer's over the message with the current nonce; one over
    the previous nonce means it was used already (a replay, or a second tab)."""
    try:
        signer = recover_typed(message_for(nonce), signature)
        if signer == customer:
            return
        if nonce > 0 and recover_typed(message_for(nonce - 1), signature) == customer:
            # Most often the same request relayed twice: asking the customer to sign again would
            # make a second redemption, so point at the one that exists.
            raise StaleSignature(
                f"the {what} signature was used already (nonce {nonce - 1}; the next is {nonce}): the request it "
                "signed was most likely relayed already; look up the customer's redemptions before asking for a new signature"
            )
    except SignatureFormatError as exc:
        raise InvalidRedemptionOrder(f"{what}_signature: {exc}") from None
    raise SignatureMismatch(
        f"the {what} signature recovers to {signer}, not the customer {customer}: it was made by another key "
        "or over other fields (item, price, redemption or deadline)"
    )
