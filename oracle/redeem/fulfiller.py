"""Works each pending redemption to its end: deliver through the brand's webhook, then fulfil on
chain with a commitment to what was delivered; or refund on chain when delivery fails for good.

    action "deliver": POST to the brand -> 2xx delivery: sealed, action "fulfil"
                                        -> retryable failure: backoff (kept in the row), or after
                                           max_attempts failures action "refund"
                                        -> definitive refusal: action "refund"
    action "fulfil":  fulfil(id, commitment) from the operations account
    action "refund":  refund(id) from the operations account
    (the watcher then moves the state to fulfilled or refunded when it reads the event)

Every step reads the redemption's status at the chain's head right before acting and acts only
while it is Pending. Nothing here is kept only in memory: the delivery is sealed and its
commitment stored before fulfil() is sent, so a crash anywhere resumes with the same commitment.
After a crash between broadcast and receipt the redemption reads as no longer Pending once that
transaction is mined, and nothing is sent again; were it still unmined, a second transaction
could follow, which the contract refuses (InvalidStatus): it acts at most once per redemption.
Retries of a delivery carry the same Idempotency-Key, so the brand delivers once however often
we ask.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from web3.exceptions import ContractLogicError

from oracle.chain.ops_sender import OpsRejected, OpsSender, OpsTimeout
from oracle.privacy import ContentVault
from oracle.redeem.fulfilment import Delivered, FulfilmentClient, Refused, RetryLater, retry_delay
from oracle.redeem.keys import redemption_key
from oracle.redeem.store import RedemptionStore

log = logging.getLogger("servicecoin.redemptions")

PENDING = 1  # ITierRedemption.Status.Pending
STATUS_NAMES = ("none", "pending", "fulfilled", "disputed", "refunded", "settled")
# Fields of ITierRedemption.Redemption as redemptionOf returns it (customer, itemId, createdAt,
# status, pricePaid, fulfilledAt, pauseClockAtFulfil, brandId, deliveryCommitment).
REDEMPTION_ITEM, REDEMPTION_STATUS, REDEMPTION_BRAND = 1, 3, 7
# Refusals only the operator can end (grant the operations account its role).
_NEEDS_OPERATOR = {"AccessControlUnauthorizedAccount", "NotAuthorisedToRefund"}


@dataclass(frozen=True)
class Backoff:
    max_attempts: int
    first: float
    maximum: float


@dataclass
class FulfilReport:
    delivered: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    fulfilled: list[int] = field(default_factory=list)
    refunded: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def delivery_owner(customer_id: str | None, address: str) -> str:
    """Whose key seals a delivery record: the helpdesk customer when known, else the address
    (`servicecoin erase` shreds both a customer's id and "wallet:<address>" of their addresses)."""
    return customer_id if customer_id is not None else f"wallet:{address}"


class Fulfiller:
    def __init__(
        self,
        store: RedemptionStore,
        vault: ContentVault,
        client: FulfilmentClient,
        contract: Any,
        sender: OpsSender,
        chain_id: int,
        backoff: Backoff,
        clock: Callable[[], float] = time.time,
        count: Callable[[str], None] | None = None,
        items: frozenset[int] | None = None,
    ) -> None:
        self.store = store
        self.items = items  # chain.catalog_items: only these items' redemptions are this brand's
        self.vault = vault
        self.client = client
        self.contract = contract
        self.sender = sender
        self.chain_id = chain_id
        self.backoff = backoff
        self.clock = clock
        self.count = count or (lambda outcome: None)

    def step(self, limit: int = 50) -> FulfilReport:
        report = FulfilReport()
        for row in self.store.due(self.clock(), limit, self.items):
            self._work(row, report)
        return report

    # ------------------------------------------------------------ one redemption

    def _work(self, row: Any, report: FulfilReport) -> None:
        rid = int(row.redemption_id)
        if not self._still_pending(row):
            return
        action = row.action
        if action == "deliver":
            action = self._deliver(row, report)
        if action == "fulfil":
            self._on_chain(rid, "fulfil", report)
        elif action == "refund":
            self._on_chain(rid, "refund", report)

    def _deliver(self, row: Any, report: FulfilReport) -> str | None:
        """Asks the brand to deliver; returns the next action to take now, if any."""
        rid = int(row.redemption_id)
        key = redemption_key(self.chain_id, self.contract.address, rid, row.customer_address, int(row.item_id))
        customer_id = self.store.customer_id_for(row.customer_address)
        payload = {
            "redemption_id": rid,
            "chain_id": self.chain_id,
            "contract": self.contract.address,
            "customer_address": row.customer_address,
            "customer_id": customer_id,
            "item_id": int(row.item_id),
            "price": row.price,  # coin units as a decimal string: beyond JSON's safe integers
            "tier": int(row.tier),
            "redeemed_at": int(row.redeemed_at),
        }
        outcome = self.client.deliver(payload, key)
        if isinstance(outcome, Delivered):
            owner = delivery_owner(customer_id, row.customer_address)
            self.store.record_delivery(self.vault, key, rid, owner, outcome.delivery, int(self.clock()))
            log.info("redemption %s delivered by the brand", rid, extra={"redemption_id": rid})
            report.delivered.append(rid)
            self.count("delivered")
            return "fulfil"
        if isinstance(outcome, Refused):
            reason = f"the brand refused the delivery: {outcome.reason}"
            log.warning("redemption %s: %s; refunding", rid, reason, extra={"redemption_id": rid})
            self.store.decide_refund(rid, reason)
            self.count("refused")
            return "refund"
        assert isinstance(outcome, RetryLater)
        failures = int(row.attempts) + 1
        if failures >= self.backoff.max_attempts:
            reason = f"delivery failed {failures} times, last: {outcome.reason}"
            log.warning("redemption %s: %s; refunding", rid, reason, extra={"redemption_id": rid})
            self.store.record_failure(rid, failures, 0.0, outcome.reason)
            self.store.decide_refund(rid, reason)
            self.count("gave_up")
            return "refund"
        delay = retry_delay(failures, self.backoff.first, self.backoff.maximum, outcome.retry_after)
        self.store.record_failure(rid, failures, self.clock() + delay, outcome.reason)
        log.info("redemption %s: delivery attempt %s failed (%s); next in %.1f s", rid, failures, outcome.reason,
                 delay, extra={"redemption_id": rid})
        report.retried.append(rid)
        self.count("retried")
        return None

    def _on_chain(self, rid: int, action: str, report: FulfilReport) -> None:
        """Sends fulfil (with the stored commitment) or refund, if the redemption is still Pending."""
        row = self.store.get(rid)
        if not self._still_pending(row):  # read again right before sending: time passed since
            return
        call = (self.contract.functions.fulfil(rid, bytes(row.delivery_commitment)) if action == "fulfil"
                else self.contract.functions.refund(rid))
        try:
            receipt = self.sender.send_call(call, f"{action} redemption {rid}")
        except OpsRejected as exc:
            name = exc.revert.name if exc.revert is not None else None
            if name == "InvalidStatus":
                return  # it moved on between our read and the send: the watcher will see how
            level = logging.ERROR if name in _NEEDS_OPERATOR else logging.WARNING
            self._postpone(rid, f"{action} refused: {exc}", report, level)
            return
        except OpsTimeout as exc:
            self._postpone(rid, str(exc), report)
            return
        self.store.record_tx(rid, f"{action}_tx", bytes(receipt["transactionHash"]))
        # The watcher moves the state once the event is confirmed; until then, look again later.
        self.store.postpone(rid, self.clock() + self.backoff.first)
        log.info("redemption %s: %s mined in block %s", rid, action, receipt["blockNumber"],
                 extra={"redemption_id": rid, "tx": "0x" + bytes(receipt["transactionHash"]).hex()})
        (report.fulfilled if action == "fulfil" else report.refunded).append(rid)
        self.count("fulfilled" if action == "fulfil" else "refunded")

    def _still_pending(self, row: Any) -> bool:
        """Whether the redemption is Pending at the chain's head and is the one the row describes;
        otherwise it is looked at again later (the watcher will record what happened)."""
        rid = int(row.redemption_id)
        try:
            on_chain = self.contract.functions.redemptionOf(rid).call()
        except ContractLogicError:
            self.store.postpone(rid, self.clock() + self.backoff.first, "not on chain at its head (a reorg?)")
            return False
        customer, item_id, _created, status, price_paid = on_chain[:5]
        if status != PENDING:
            # Already moved on (by us, or the arbiter): the watcher records it once confirmed.
            self.store.postpone(rid, self.clock() + self.backoff.first)
            return False
        if (str(customer).lower(), int(item_id), str(price_paid)) != (
                row.customer_address.lower(), int(row.item_id), row.price):
            self.store.postpone(rid, self.clock() + self.backoff.first,
                                "differs on chain from the Redeemed event seen (a reorg?)")
            return False
        return True

    def _postpone(self, rid: int, error: str, report: FulfilReport, level: int = logging.WARNING) -> None:
        # A missing role needs the operator: no point asking the node every few seconds.
        delay = self.backoff.maximum if level >= logging.ERROR else self.backoff.first
        log.log(level, "redemption %s: %s", rid, error, extra={"redemption_id": rid})
        report.problems.append(f"redemption {rid}: {error}")
        self.store.postpone(rid, self.clock() + delay, error)
