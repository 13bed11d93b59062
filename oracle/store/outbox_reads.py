"""The outbox's queries: what the pipeline, the submitter and `servicecoin status` read.

They run outside any write transaction (SQLite's WAL lets them read while a writer works), and
the states they see are the ones oracle/store/outbox.py moves events and batches through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from oracle.store.schema import batch_attempts, batches, events, sequence_counters


@dataclass(frozen=True)
class BatchRecord:
    event_id: bytes
    customer_address: str
    seq: int
    kind: int
    occurred_at: int
    content_commitment: bytes


class OutboxReads:
    """Read-only queries over the outbox's tables; Outbox adds the state changes."""

    _engine: Engine

    def event_state(self, event_id: bytes) -> str | None:
        with self._engine.connect() as connection:
            return connection.execute(select(events.c.state).where(events.c.event_id == event_id)).scalar()

    def event_row(self, event_id: bytes) -> Any:
        with self._engine.connect() as connection:
            return connection.execute(select(events).where(events.c.event_id == event_id)).one_or_none()

    def batch_row(self, batch_id: int) -> Any:
        with self._engine.connect() as connection:
            return connection.execute(select(batches).where(batches.c.batch_id == batch_id)).one_or_none()

    def batches_in(self, states: tuple[str, ...], brand_id: int | None = None) -> list[Any]:
        """Batch rows in the given states, oldest first."""
        query = select(batches).where(batches.c.state.in_(states)).order_by(batches.c.batch_id)
        if brand_id is not None:
            query = query.where(batches.c.brand_id == brand_id)
        with self._engine.connect() as connection:
            return list(connection.execute(query).all())

    def batch_records(self, batch_id: int) -> tuple[BatchRecord, ...]:
        """The records of a batch, by sequence number: the same on every signing."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(events).where(events.c.batch_id == batch_id).order_by(events.c.seq)).all()
        return tuple(
            BatchRecord(r.event_id, r.customer_address, r.seq, r.kind, r.occurred_at, r.content_commitment) for r in rows
        )

    def attempts(self, batch_id: int) -> list[Any]:
        with self._engine.connect() as connection:
            return list(
                connection.execute(
                    select(batch_attempts).where(batch_attempts.c.batch_id == batch_id).order_by(batch_attempts.c.sent_at)
                ).all()
            )

    def highest_nonce_in_flight(self) -> int | None:
        """The highest nonce of a transaction not yet confirmed: a restarted submitter must not
        reuse it, even if the node has forgotten the transaction."""
        with self._engine.connect() as connection:
            return connection.execute(select(func.max(batches.c.nonce)).where(batches.c.state == "submitted")).scalar()

    def next_seq(self, brand_id: int) -> int:
        """The sequence number the next eligible event of the brand will get."""
        with self._engine.connect() as connection:
            counter = connection.execute(
                select(sequence_counters.c.next_seq).where(sequence_counters.c.brand_id == brand_id)
            ).scalar()
        return 1 if counter is None else int(counter)

    def eligible_backlog(self, brand_id: int) -> tuple[int, int | None]:
        """How many eligible events wait for a batch, and when the oldest was received."""
        with self._engine.connect() as connection:
            count, oldest = connection.execute(
                select(func.count(), func.min(events.c.received_at)).where(
                    events.c.state == "eligible", events.c.brand_id == brand_id
                )
            ).one()
        return int(count), None if oldest is None else int(oldest)

    def reasons(self, state: str) -> dict[str, int]:
        """Why events in `state` were not rewarded (policy reasons, on-chain skip reasons)."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(events.c.reason, func.count())
                .where(events.c.state == state, events.c.reason.is_not(None))
                .group_by(events.c.reason)
            ).all()
        return {reason: int(count) for reason, count in rows}

    def counts_by_state(self) -> dict[str, int]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(events.c.state, func.count()).group_by(events.c.state)).all()
        return {state: int(count) for state, count in rows}
