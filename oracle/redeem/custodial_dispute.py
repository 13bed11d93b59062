"""`servicecoin dispute`: the brand files a dispute for a custodial customer.

Only the address that redeemed may dispute a delivery (TierRedemption.dispute), and a custodial
customer's address is a key the brand holds, with no ether. So, as for a custodial redemption,
the custodial key signs an ERC-2771 forward request for `dispute(redemptionId)` and the
operations account relays it through the ServiceCoinForwarder and pays the gas. The dispute is
simulated as the customer first: one the contract would refuse (not their redemption, not yet
delivered, the window closed) is refused here with the contract's error and costs nothing.
An arbiter then decides, as for any dispute (`servicecoin redemption refund|reject-dispute`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from oracle.chain.ops_sender import OpsNonceTaken, OpsRejected, OpsTimeout
from oracle.chain.reverts import decode_revert
from oracle.chain.submitter import revert_data
from oracle.redeem.relay import (
    CUSTODIAL_DEADLINE_SECONDS,
    RedeemRelay,
    RedemptionRefused,
    RelayError,
    RelayUnavailable,
)
from oracle.redeem.signed_messages import ForwardRequest, sign_typed

log = logging.getLogger(__name__)

# The gas the custodial key signs for the dispute call, with a wide margin: it rewrites one
# status slot (a direct `dispute` transaction uses 37,929 gas in all, base fee included:
# snapshots/gas.json). The forwarder gives the call exactly this or runs nothing.
DISPUTE_GAS = 100_000


@dataclass(frozen=True)
class FiledDispute:
    redemption_id: int
    customer: str
    tx_hash: str
    gas_used: int


def dispute_for_custodial(relay: RedeemRelay, account: LocalAccount, redemption_id: int) -> FiledDispute:
    """Disputes `redemption_id` as the custodial `account`, gas paid by the operations account."""
    customer = str(account.address)
    redemption = relay.redemption
    data = bytes.fromhex(redemption.functions.dispute(redemption_id)._encode_transaction_data()[2:])
    try:
        relay.w3.eth.call({"from": customer, "to": redemption.address, "data": data})  # type: ignore[typeddict-item]
    except ContractLogicError as exc:
        decoded = decode_revert(revert_data(exc))
        raise RedemptionRefused(f"the dispute would revert: {decoded or exc}", decoded) from None

    deadline = int(relay.w3.eth.get_block("latest")["timestamp"]) + CUSTODIAL_DEADLINE_SECONDS
    nonce = relay.forwarder.functions.nonces(customer).call()
    request = ForwardRequest(customer, redemption.address, DISPUTE_GAS, nonce, deadline, data)
    signature = sign_typed(account.key, request.typed_data(relay.forwarder_domain()))
    what = f"dispute of redemption {redemption_id} for {customer}"
    try:
        receipt = relay.sender.send_call(relay.forwarder.functions.execute(request.as_call_argument(signature)), what)
    except OpsRejected as exc:
        raise RedemptionRefused(str(exc), exc.revert) from None
    except (OpsTimeout, OpsNonceTaken) as exc:
        raise RelayUnavailable(str(exc)) from None
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    for event in redemption.events.Disputed().process_receipt(receipt, errors=DISCARD):
        if event["address"] == redemption.address and event["args"]["redemptionId"] == redemption_id:
            log.info("custodial dispute filed", extra={"redemption_id": redemption_id, "customer": customer, "tx": tx_hash})
            return FiledDispute(redemption_id, customer, tx_hash, int(receipt["gasUsed"]))
    raise RelayError(f"{what}: mined without a Disputed event (tx {tx_hash})")
