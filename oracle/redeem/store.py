"""The redemptions and price announcements the oracle knows of, in the outbox's database.

Two writers, each owning its columns, so neither can undo the other:
- the watcher (from chain events, inside the chain follower's transaction) owns a redemption's
  identity and `state`, the mirror of its on-chain status;
- the fulfiller owns the work on a pending redemption: `action`, attempts and backoff, the
  delivery and its commitment, the fulfil/refund transactions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update

from oracle.privacy import ContentVault
from oracle.store.engine import write_transaction
from oracle.store.schema import contents, events, price_announcements, redemptions, wallet_links

log = logging.getLogger("servicecoin.redemptions")


@dataclass(frozen=True)
class Redeemed:
    redemption_id: int
    customer: str
    item_id: int
    price: int
    tier: int
    redeemed_at: int
    block: int


class RedemptionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ================================================================ the watcher's writes

    @staticmethod
    def upsert_redeemed(connection: Connection, event: Redeemed) -> None:
        """A Redeemed event: a new pending redemption; read again, nothing changes (an orphaned
        one is pending again). A different redemption under a known id means a reorg deeper
        than the confirmations replaced it: the row starts over for the new one."""
        row = connection.execute(
            select(redemptions).where(redemptions.c.redemption_id == event.redemption_id)
        ).one_or_none()
        identity = {
            "customer_address": event.customer, "item_id": event.item_id, "price": str(event.price), "tier": event.tier,
            "redeemed_at": event.redeemed_at, "redeemed_block": event.block,
        }
        if row is None:
            connection.execute(insert(redemptions).values(
                redemption_id=event.redemption_id, state="pending", state_block=event.block, action="deliver",
                attempts=0, next_attempt_at=0.0, **identity,
            ))
            return
        same = (row.customer_address.lower(), row.item_id, row.price) == (
            event.customer.lower(), event.item_id, str(event.price))
        if same and row.state != "orphaned":
            return
        values: dict[str, Any] = {**identity, "state": "pending", "state_block": event.block}
        if not same:
            log.warning("redemption %s was replaced by a reorg: now %s", event.redemption_id, identity)
            values.update(action="deliver", attempts=0, next_attempt_at=0.0, last_error=None, refund_reason=None,
                          delivery_commitment=None, delivered_at=None, chain_commitment=None, fulfil_tx=None,
                          refund_tx=None)
        connection.execute(update(redemptions).where(redemptions.c.redemption_id == event.redemption_id).values(**values))

    @staticmethod
    def set_state(
        connection: Connection, redemption_id: int, state: str, block: int, chain_commitment: bytes | None = None
    ) -> str | None:
        """A status event; returns the state before it (None for an unknown redemption)."""
        before = connection.execute(
            select(redemptions.c.state).where(redemptions.c.redemption_id == redemption_id)
        ).scalar()
        if before is None:
            return None
        values: dict[str, Any] = {"state": state, "state_block": block}
        if chain_commitment is not None:
            values["chain_commitment"] = chain_commitment
        connection.execute(update(redemptions).where(redemptions.c.redemption_id == redemption_id).values(**values))
        return str(before)

    @staticmethod
    def record_announcement(
        connection: Connection, block: int, log_index: int, item_id: int, old_price: int, new_price: int,
        announced_at: int, effective_at: int, tx_hash: bytes,
    ) -> None:
        """A PriceChangeAnnounced event. It replaces the item's announcement still waiting to
        take effect, if any (one that took effect already stays as it is)."""
        key = (price_announcements.c.block_number == block) & (price_announcements.c.log_index == log_index)
        if connection.execute(select(price_announcements.c.item_id).where(key)).first() is not None:
            return
        previous = RedemptionStore._newest_announced(connection, item_id)
        # The contract applies a due change before announcing the next, so the next one's old
        # price is the previous one's new price exactly when that took effect. The time alone
        # cannot tell: a pause pushes a change back. (A change to the same price tells nothing
        # by prices; the announced time decides then.)
        if previous is not None and (
            previous.new_price != str(old_price)
            or (previous.old_price == previous.new_price and previous.effective_at > announced_at)
        ):
            RedemptionStore._close(connection, previous, block, "replaced")
        connection.execute(insert(price_announcements).values(
            block_number=block, log_index=log_index, item_id=item_id, old_price=str(old_price),
            new_price=str(new_price), announced_at=announced_at, effective_at=effective_at, state="announced",
            state_block=block, tx_hash=tx_hash,
        ))

    @staticmethod
    def cancel_announcement(connection: Connection, item_id: int, block: int) -> None:
        """A PriceChangeCancelled event: the contract cancels only a change still waiting, which is
        always the item's newest announcement."""
        previous = RedemptionStore._newest_announced(connection, item_id)
        if previous is not None:
            RedemptionStore._close(connection, previous, block, "cancelled")

    @staticmethod
    def _newest_announced(connection: Connection, item_id: int) -> Any:
        """The item's newest announcement not replaced or cancelled: waiting, or in force."""
        return connection.execute(
            select(price_announcements)
            .where(price_announcements.c.item_id == item_id, price_announcements.c.state == "announced")
            .order_by(price_announcements.c.block_number.desc(), price_announcements.c.log_index.desc())
            .limit(1)
        ).first()

    @staticmethod
    def _close(connection: Connection, announcement: Any, block: int, state: str) -> None:
        key = ((price_announcements.c.block_number == announcement.block_number)
               & (price_announcements.c.log_index == announcement.log_index))
        connection.execute(update(price_announcements).where(key).values(state=state, state_block=block))

    @staticmethod
    def rewind(connection: Connection, block: int) -> int:
        """Undoes what events above `block` said (see ChainHandler.rewind). A redemption whose
        state came from such an event is replayed from its Redeemed event on (its earlier state
        is known only from its events), so the follower resumes below the oldest of those."""
        lowest = connection.execute(
            select(func.min(redemptions.c.redeemed_block))
            .where(redemptions.c.state_block > block, redemptions.c.redeemed_block <= block)
        ).scalar()
        target = block if lowest is None else min(block, int(lowest) - 1)
        # Redeemed above the target: gone unless the replay finds them again. (Every other row's
        # state came from a block at or below `block`, which stays: replaying its events from
        # the target on applies them again in order and ends in the same state.)
        connection.execute(
            update(redemptions).where(redemptions.c.redeemed_block > target)
            .values(state="orphaned", state_block=redemptions.c.redeemed_block)
        )
        connection.execute(delete(price_announcements).where(price_announcements.c.block_number > target))
        connection.execute(
            update(price_announcements).where(price_announcements.c.state_block > target)
            .values(state="announced", state_block=price_announcements.c.block_number)
        )
        return target

    # ================================================================ the fulfiller's writes

    def due(self, now: float, limit: int = 50, items: frozenset[int] | None = None) -> list[Any]:
        """Pending redemptions whose next step is due, oldest first; with `items`, only theirs
        (an outbox from before chain.catalog_items may hold other brands' redemptions)."""
        query = select(redemptions).where(redemptions.c.state == "pending", redemptions.c.next_attempt_at <= now)
        if items is not None:
            query = query.where(redemptions.c.item_id.in_(sorted(items)))
        with self.engine.connect() as connection:
            return list(connection.execute(query.order_by(redemptions.c.redemption_id).limit(limit)))

    def record_failure(self, redemption_id: int, attempts: int, next_attempt_at: float, error: str) -> None:
        self._update(redemption_id, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:2000])

    def postpone(self, redemption_id: int, next_attempt_at: float, error: str | None = None) -> None:
        """Looks at the redemption again later without counting a failed delivery: an on-chain
        step that could not be sent now (paused, a missing role), or one waiting for its event."""
        values: dict[str, Any] = {"next_attempt_at": next_attempt_at}
        if error is not None:
            values["last_error"] = error[:2000]
        self._update(redemption_id, **values)

    def decide_refund(self, redemption_id: int, reason: str) -> None:
        self._update(redemption_id, action="refund", refund_reason=reason[:2000], next_attempt_at=0.0)

    def record_delivery(
        self, vault: ContentVault, key: bytes, redemption_id: int, customer_id: str, delivery: dict[str, Any], now: int
    ) -> bytes:
        """Seals what the brand delivered under the customer's key and stores its salted
        commitment, in one transaction; returns the commitment fulfil() puts on chain."""
        with write_transaction(self.engine) as connection:
            # A delivery sealed before under this key: the same redemption, which a deep reorg
            # made another one's and then its own again (its delivery is the brand's same answer).
            connection.execute(delete(contents).where(contents.c.event_id == key))
            commitment = vault.seal(connection, customer_id, key, {"delivery": delivery}, now)
            connection.execute(
                update(redemptions).where(redemptions.c.redemption_id == redemption_id)
                .values(action="fulfil", delivery_commitment=commitment, delivered_at=now, last_error=None,
                        next_attempt_at=0.0)
            )
        return commitment

    def record_tx(self, redemption_id: int, column: str, tx_hash: bytes) -> None:
        if column not in ("fulfil_tx", "refund_tx"):
            raise ValueError(column)
        self._update(redemption_id, **{column: tx_hash, "last_error": None})

    def _update(self, redemption_id: int, **values: Any) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(update(redemptions).where(redemptions.c.redemption_id == redemption_id).values(**values))

    # ================================================================ reads

    def get(self, redemption_id: int) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(
                select(redemptions).where(redemptions.c.redemption_id == redemption_id)
            ).one_or_none()

    def list(self, states: Sequence[str] | None = None) -> list[Any]:
        query = select(redemptions).order_by(redemptions.c.redemption_id)
        if states:
            query = query.where(redemptions.c.state.in_(list(states)))
        with self.engine.connect() as connection:
            return list(connection.execute(query))

    def counts_by_state(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(redemptions.c.state, func.count()).group_by(redemptions.c.state))
            return {str(state): int(count) for state, count in rows}

    def announcements(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(
                select(price_announcements).order_by(price_announcements.c.block_number, price_announcements.c.log_index)
            ))

    def customer_id_for(self, address: str) -> str | None:
        """The helpdesk customer behind an address: a wallet they linked, or the custodial
        address the oracle derived for them (recorded with their rewarded events)."""
        address = address.lower()
        with self.engine.connect() as connection:
            linked = connection.execute(
                select(wallet_links.c.customer_id).where(
                    or_(func.lower(wallet_links.c.address) == address,
                        func.lower(wallet_links.c.custodial_address) == address)
                ).limit(1)
            ).scalar()
            if linked is not None:
                return str(linked)
            # The outbox records custodial addresses checksummed (CustodialWallets.address_for).
            earned = connection.execute(
                select(events.c.customer_id).where(events.c.customer_address == to_checksum_address(address)).limit(1)
            ).scalar()
        return None if earned is None else str(earned)
