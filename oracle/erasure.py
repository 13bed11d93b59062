"""`servicecoin erase`: what crypto-shredding a customer makes unreadable, counted before and
after. The vault (oracle/privacy.py) does the shredding; this module only says what it covers:
feedback contents (sealed per helpdesk event) and delivered perks (sealed per redemption by the
fulfiller, under keys that are not events)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from oracle.privacy import ContentVault
from oracle.store.schema import contents, customer_keys, events


@dataclass(frozen=True)
class Readable:
    feedback: int  # contents of helpdesk events that still open
    deliveries: int  # contents of delivered perks that still open
    has_key: bool  # the customer's data key still exists
    known: bool  # the outbox has ever seen this customer

    @property
    def anything(self) -> bool:
        return self.has_key or self.feedback > 0 or self.deliveries > 0


def owners_of(customer_id: str, addresses: list[str]) -> list[str]:
    """Every owner id the vault may hold this customer's data under: their helpdesk id, and
    "wallet:<address>" for each of their addresses (a delivery to an address the oracle could not
    name at the time is sealed that way; see oracle/redeem/fulfiller.py)."""
    return [customer_id] + [f"wallet:{address}" for address in addresses]


def readable(engine: Engine, customer_id: str, addresses: list[str] | None = None) -> Readable:
    total = _readable(engine, customer_id)
    for alias in owners_of(customer_id, addresses or [])[1:]:
        extra = _readable(engine, alias)
        total = Readable(total.feedback + extra.feedback, total.deliveries + extra.deliveries,
                         total.has_key or extra.has_key, total.known)
    return total


def _readable(engine: Engine, customer_id: str) -> Readable:
    with engine.connect() as connection:
        is_event = select(events.c.event_id).where(events.c.event_id == contents.c.event_id).exists()
        counts = dict(
            connection.execute(
                select(is_event.label("feedback"), func.count())
                .where(contents.c.customer_id == customer_id, contents.c.salt.is_not(None))
                .group_by(is_event)
            ).all()
        )
        has_key = connection.execute(
            select(customer_keys.c.customer_id).where(customer_keys.c.customer_id == customer_id)
        ).first() is not None
        known = has_key or connection.execute(
            select(contents.c.event_id).where(contents.c.customer_id == customer_id).limit(1)
        ).first() is not None or connection.execute(
            select(events.c.event_id).where(events.c.customer_id == customer_id).limit(1)
        ).first() is not None
    return Readable(int(counts.get(True, 0)), int(counts.get(False, 0)), has_key, known)


def erase(vault: ContentVault, engine: Engine, customer_id: str, addresses: list[str] | None = None) -> Readable:
    """Shreds the customer (and what is sealed under their addresses) and returns what became
    unreadable (what was readable before)."""
    before = readable(engine, customer_id, addresses)
    for owner in owners_of(customer_id, addresses or []):
        vault.erase(owner)
    return before
