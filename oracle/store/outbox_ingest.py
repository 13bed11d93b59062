"""Storing helpdesk deliveries: each new event's row and its sealed content, once. A
redelivery changes nothing; a different event under a stored event's id is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from oracle.events import HelpdeskEvent
from oracle.kinds import FeedbackKind
from oracle.privacy import ContentVault
from oracle.store.errors import EventIdConflict
from oracle.store.schema import events


def utc_day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).date().isoformat()


@dataclass(frozen=True)
class _Stored:
    """What a delivery is compared with: an event stored, or one earlier in the same group."""

    customer_id: str
    kind: int


def _conflict(stored: Any, event: HelpdeskEvent) -> EventIdConflict | None:
    """Whether `event` differs from the stored event of the same id where it matters. Only the
    customer and the kind: a redelivery may differ in time or content (a rating changed later
    keeps its event), and neither changes the reward."""
    if (stored.customer_id, stored.kind) == (event.customer_id, int(event.kind)):
        return None
    return EventIdConflict(event.source, event.helpdesk_event_id, stored.customer_id, FeedbackKind(stored.kind).name.lower())


class OutboxIngest:
    """The ingest half of Outbox (oracle/store/outbox.py), which gives it `vault`,
    `_transaction()` (a write transaction) and `event_row()` (OutboxReads)."""

    vault: ContentVault
    _transaction: Callable[[], AbstractContextManager[Connection]]
    event_row: Callable[[bytes], Any]

    def receive(self, helpdesk_event: HelpdeskEvent, content: dict[str, Any], received_at: int) -> bool:
        """Stores a delivery durably: the event row and its encrypted content (whose salted
        commitment goes on-chain) in one transaction. True if new; False if the same helpdesk
        event was already stored (a redelivery changes nothing). Acknowledge only after this.
        Raises EventIdConflict for a different event under a stored event's id."""
        try:
            return self._receive_once(helpdesk_event, content, received_at)
        except IntegrityError:
            # Raised only when this event is not stored: another instance stored a first event
            # of the same new customer, and with it the customer's content key, between our
            # read and insert (PostgreSQL). The key is there now; the second attempt uses it.
            return self._receive_once(helpdesk_event, content, received_at)

    def _receive_once(self, helpdesk_event: HelpdeskEvent, content: dict[str, Any], received_at: int) -> bool:
        event_key = helpdesk_event.id
        try:
            with self._transaction() as connection:
                stored = connection.execute(
                    select(events.c.customer_id, events.c.kind).where(events.c.event_id == event_key)
                ).first()
                if stored is not None:
                    conflict = _conflict(stored, helpdesk_event)
                    if conflict is not None:
                        raise conflict
                    return False
                commitment = self.vault.seal(
                    connection, helpdesk_event.customer_id, event_key, content, received_at
                )
                connection.execute(insert(events).values(**self._event_row(helpdesk_event, commitment, received_at)))
        except IntegrityError:
            # Another instance stored the same event between our check and insert (PostgreSQL).
            stored = self.event_row(event_key)
            if stored is None:
                raise
            conflict = _conflict(stored, helpdesk_event)
            if conflict is not None:
                raise conflict from None
            return False
        return True

    def receive_many(
        self, items: list[tuple[HelpdeskEvent, dict[str, Any], int]]
    ) -> list[bool | EventIdConflict]:
        """`receive` for many deliveries in one transaction (group commit): one read of the ids
        already stored, then every new event and its sealed content inserted at once. Returns,
        per item, True if it was new, False for a redelivery, or the EventIdConflict of a
        different event under a known id. A delivery repeated inside the group is stored once."""
        if not items:
            return []
        keys = [event.id for event, _, _ in items]
        try:
            with self._transaction() as connection:
                known: dict[bytes, Any] = {}
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    query = select(events.c.event_id, events.c.customer_id, events.c.kind).where(events.c.event_id.in_(chunk))
                    known.update((row.event_id, row) for row in connection.execute(query))
                fresh, seen, conflicts = [], {}, {}
                for index, (event, content, received_at) in enumerate(items):
                    earlier = known.get(event.id) or seen.get(event.id)
                    if earlier is not None:
                        conflict = _conflict(earlier, event)
                        if conflict is not None:
                            conflicts[index] = conflict
                        continue
                    seen[event.id] = _Stored(event.customer_id, int(event.kind))
                    fresh.append((event, content, received_at))
                if fresh:
                    now = max(received_at for _, _, received_at in fresh)
                    digests = self.vault.seal_many(connection, [(e.customer_id, e.id, c) for e, c, _ in fresh], now)
                    rows = [self._event_row(e, d, r) for (e, _, r), d in zip(fresh, digests)]
                    connection.execute(insert(events), rows)
        except IntegrityError:
            # Another instance stored one of these between our read and insert (PostgreSQL):
            # fall back to one transaction per delivery, which resolves each race on its own.
            return [self._receive_or_conflict(event, content, received_at) for event, content, received_at in items]
        first: dict[bytes, int] = {}
        for index, key in enumerate(keys):
            first.setdefault(key, index)
        return [conflicts.get(index, key in seen and first[key] == index) for index, key in enumerate(keys)]

    def _receive_or_conflict(
        self, event: HelpdeskEvent, content: dict[str, Any], received_at: int
    ) -> bool | EventIdConflict:
        try:
            return self.receive(event, content, received_at)
        except EventIdConflict as conflict:
            return conflict

    @staticmethod
    def _event_row(helpdesk_event: HelpdeskEvent, commitment: bytes, received_at: int) -> dict[str, Any]:
        return {
            "event_id": helpdesk_event.id,
            "brand_id": helpdesk_event.brand_id,
            "source": helpdesk_event.source,
            "helpdesk_event_id": helpdesk_event.helpdesk_event_id,
            "customer_id": helpdesk_event.customer_id,
            "kind": int(helpdesk_event.kind),
            "occurred_at": helpdesk_event.occurred_at,
            "day": utc_day(helpdesk_event.occurred_at),
            "flags": json.dumps(sorted(helpdesk_event.flags)),
            "content_commitment": commitment,
            "received_at": received_at,
            "state": "received",
        }
