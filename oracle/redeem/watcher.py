"""TierRedemption's events, as the chain follower hands them over, into the redemption store.

| event                   | effect                                                    |
|-------------------------|-----------------------------------------------------------|
| Redeemed                | a pending redemption (the fulfiller delivers it)          |
| Fulfilled               | fulfilled, with the commitment the chain holds            |
| Disputed                | disputed: reported (log, metric) for the arbiter to decide |
| DisputeRejected/Settled | settled                                                   |
| Refunded                | refunded; a refund to a custodial address whose customer  |
|                         | linked a wallet since reopens the link (the coins follow) |
| PriceChangeAnnounced    | an announced price, effective at its time                 |
| PriceChangeCancelled    | the item's waiting announcement is cancelled              |

Every effect is an idempotent upsert, so the follower may hand over a range again after a reorg.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

from oracle.chain.follower import ChainLog
from oracle.identity import sweep_again
from oracle.redeem.store import Redeemed, RedemptionStore

log = logging.getLogger("servicecoin.redemptions")

_STATES = {
    "Fulfilled": "fulfilled",
    "Disputed": "disputed",
    "DisputeRejected": "settled",
    "Settled": "settled",
    "Refunded": "refunded",
}


class RedemptionWatcher:
    """The ChainHandler of the TierRedemption follower. With `brand_id`, only that brand's events
    are handled (every catalog and redemption event names its brand); with `items`, only those
    of the listed items. Other redemptions are never delivered, fulfilled or refunded here (the
    contract would refuse another brand's fulfiller anyway), and their later events are ignored."""

    def __init__(
        self, on_dispute: Callable[[int], None] | None = None, items: frozenset[int] | None = None,
        brand_id: int | None = None,
    ) -> None:
        self.on_dispute = on_dispute
        self.items = items
        self.brand_id = brand_id

    def _ours(self, item_id: int) -> bool:
        return self.items is None or item_id in self.items

    def handle(self, connection: Connection, logs: list[ChainLog]) -> None:
        for entry in logs:
            args = entry.args
            if "itemId" in args and not self._ours(int(args["itemId"])):
                continue  # another brand's item
            if "brandId" in args and self.brand_id is not None and int(args["brandId"]) != self.brand_id:
                continue  # another brand's item or redemption
            if entry.name == "Redeemed":
                RedemptionStore.upsert_redeemed(connection, Redeemed(
                    redemption_id=int(args["redemptionId"]), customer=str(args["customer"]),
                    item_id=int(args["itemId"]), price=int(args["price"]), tier=int(args["tier"]),
                    redeemed_at=entry.timestamp, block=entry.block_number,
                ))
            elif entry.name in _STATES:
                self._status(connection, entry)
            elif entry.name == "PriceChangeAnnounced":
                RedemptionStore.record_announcement(
                    connection, entry.block_number, entry.log_index, int(args["itemId"]), int(args["oldPrice"]),
                    int(args["newPrice"]), entry.timestamp, int(args["effectiveAt"]), entry.tx_hash,
                )
                log.info("price of item %s: %s -> %s units from %s", args["itemId"], args["oldPrice"],
                         args["newPrice"], args["effectiveAt"])
            elif entry.name == "PriceChangeCancelled":
                RedemptionStore.cancel_announcement(connection, int(args["itemId"]), entry.block_number)

    def rewind(self, connection: Connection, block: int) -> int:
        return RedemptionStore.rewind(connection, block)

    def _status(self, connection: Connection, entry: ChainLog) -> None:
        redemption_id = int(entry.args["redemptionId"])
        state = _STATES[entry.name]
        commitment = bytes(entry.args["deliveryCommitment"]) if entry.name == "Fulfilled" else None
        before = RedemptionStore.set_state(connection, redemption_id, state, entry.block_number, commitment)
        if entry.name == "Refunded" and sweep_again(connection, str(entry.args["customer"])):
            log.info("refund %s reached a custodial address already linked: its wallet link runs again",
                     redemption_id)
        if before is None:
            # Other brands' events never get here; with `items`, other items' do: nothing to say.
            if self.items is None:
                log.warning("%s for redemption %s, which this oracle never saw redeemed (start_block too late?)",
                            entry.name, redemption_id)
        elif state == "disputed" and before != "disputed":
            log.warning("redemption %s disputed by its customer: the arbiter decides (servicecoin redemption "
                        "refund %s, or reject-dispute %s)", redemption_id, redemption_id, redemption_id,
                        extra={"redemption_id": redemption_id, "customer": entry.args.get("customer")})
            if self.on_dispute is not None:
                self.on_dispute(redemption_id)
