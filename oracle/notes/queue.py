"""The durable queue of proof notes (table `notes`): filled from final rewards, worked off with
retries whose schedule lives in the row, so a restart neither forgets a note nor retries early.

    pending -> posted           (the helpdesk accepted it; never sent again)
    pending -> failed           (a definitive refusal, or max_attempts failed tries)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from oracle.store.engine import chunks, write_transaction
from oracle.store.schema import NOTE_STATES, batches, events, note_cursors, notes

_CURSOR = "final-rewards"


@dataclass(frozen=True)
class Note:
    event_id: bytes
    helpdesk: str
    ticket_id: str
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: int
    posted_at: int | None


class NoteQueue:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def enqueue_final(self, ticket_for: dict[str, Callable[[str], str | None]], now: int) -> int:
        """Queues a note for every rewarded event that became final since the last scan and
        whose helpdesk has an adapter (`ticket_for`: source -> the adapter's ticket lookup).
        Reads only batches after the cursor, so the outbox's history is not rescanned."""
        with self._engine.connect() as connection:
            cursor = connection.execute(select(note_cursors.c.batch_id).where(note_cursors.c.name == _CURSOR)).scalar() or 0
            later = connection.execute(
                select(batches.c.batch_id, batches.c.state).where(batches.c.batch_id > cursor).order_by(batches.c.batch_id)
            ).all()
            final = [row.batch_id for row in later if row.state == "final"]
            candidates = []
            for chunk in chunks(final):
                candidates += connection.execute(
                    select(events.c.event_id, events.c.source, events.c.helpdesk_event_id)
                    .where(
                        events.c.batch_id.in_(chunk),
                        events.c.state == "final",
                        events.c.reason.is_(None),  # a record the registry skipped earned nothing
                        events.c.source.in_(list(ticket_for)),
                    )
                ).all()
            queued = set()
            for chunk in chunks([row.event_id for row in candidates]):
                queued.update(connection.execute(select(notes.c.event_id).where(notes.c.event_id.in_(chunk))).scalars())
        # Batches are final in order, except one held back by a reorg: the cursor stops before
        # the first batch that is not final, and the final ones after it are looked at again.
        unfinished = [row.batch_id for row in later if row.state != "final"]
        new_cursor = (unfinished[0] - 1) if unfinished else (later[-1].batch_id if later else cursor)
        rows = []
        for row in candidates:
            if row.event_id in queued:
                continue
            ticket = ticket_for[row.source](row.helpdesk_event_id)
            if ticket is not None:
                rows.append({"event_id": row.event_id, "helpdesk": row.source, "ticket_id": ticket, "state": "pending",
                             "attempts": 0, "next_attempt_at": float(now), "created_at": now})
        if not rows and new_cursor == cursor:
            return 0  # nothing to write: no write lock taken
        try:
            with write_transaction(self._engine) as connection:
                if rows:
                    connection.execute(insert(notes), rows)
                self._set_cursor(connection, cursor, new_cursor)
        except IntegrityError:
            return 0  # another instance queued the same notes meanwhile; the next scan sees them
        return len(rows)

    @staticmethod
    def _set_cursor(connection: Any, old: int, new: int) -> None:
        if new == old:
            return
        moved = connection.execute(update(note_cursors).where(note_cursors.c.name == _CURSOR).values(batch_id=new)).rowcount
        if not moved:
            connection.execute(insert(note_cursors).values(name=_CURSOR, batch_id=new))

    def due(self, now: float, limit: int = 50) -> list[Note]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(notes)
                .where(notes.c.state == "pending", notes.c.next_attempt_at <= now)
                .order_by(notes.c.next_attempt_at, notes.c.event_id)
                .limit(limit)
            ).all()
        return [_note(row) for row in rows]

    def record_attempt(self, event_id: bytes, retry_at: float) -> int:
        """Counts a try before it is made, with the time of the next one if it fails: a crash
        during the request then waits for the backoff instead of retrying at once."""
        with write_transaction(self._engine) as connection:
            attempts = connection.execute(select(notes.c.attempts).where(notes.c.event_id == event_id)).scalar_one() + 1
            connection.execute(
                update(notes).where(notes.c.event_id == event_id, notes.c.state == "pending")
                .values(attempts=attempts, next_attempt_at=retry_at)
            )
        return int(attempts)

    def mark_posted(self, event_id: bytes, now: int) -> None:
        self._finish(event_id, state="posted", posted_at=now, last_error=None)

    def mark_failed(self, event_id: bytes, reason: str) -> None:
        self._finish(event_id, state="failed", last_error=reason)

    def retry_later(self, event_id: bytes, at: float, reason: str) -> None:
        self._finish(event_id, state="pending", next_attempt_at=at, last_error=reason)

    def _finish(self, event_id: bytes, **values: Any) -> None:
        with write_transaction(self._engine) as connection:
            connection.execute(update(notes).where(notes.c.event_id == event_id, notes.c.state == "pending").values(**values))

    def listing(self, state: str | None = None, limit: int = 1000) -> list[Note]:
        if state is not None and state not in NOTE_STATES:
            raise ValueError(f"state must be one of {', '.join(NOTE_STATES)}")
        query = select(notes).order_by(notes.c.created_at, notes.c.event_id).limit(limit)
        if state is not None:
            query = query.where(notes.c.state == state)
        with self._engine.connect() as connection:
            return [_note(row) for row in connection.execute(query).all()]

    def get(self, event_id: bytes) -> Note | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(notes).where(notes.c.event_id == event_id)).first()
        return None if row is None else _note(row)


def _note(row: Any) -> Note:
    return Note(bytes(row.event_id), row.helpdesk, row.ticket_id, row.state, int(row.attempts),
                float(row.next_attempt_at), row.last_error, int(row.created_at), row.posted_at)
