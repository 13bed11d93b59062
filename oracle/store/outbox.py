"""The transactional outbox: one row per helpdesk event, moved through its states only inside
database transactions, so a crash at any point leaves every event in exactly one state.

    received -> eligible | ineligible -> batched -> submitted -> confirmed -> final

An event is acknowledged to the helpdesk only after `receive` commits; it gets its brand's
next dense sequence number (the on-chain record-once key) in the same transaction that marks it
eligible, so a sequence number is never given twice nor to two events. Batches carry what a
restart needs: the signed transaction's bytes, hash and nonce once submitted; the block once
confirmed.

SQLite (WAL, one writer at a time: every transaction begins IMMEDIATE) is the default; the
same code runs on PostgreSQL, where deciders of a brand take an advisory lock (engine.serialise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from oracle.kinds import FeedbackKind
from oracle.policy import Decision, Event, Policy, decide
from oracle.privacy import ContentVault
from oracle.store.engine import (
    DECISION_LOCK,
    MIGRATION_LOCK,
    chunks,
    create_outbox_engine,
    observe_writer_waits,
    serialise,
    write_transaction,
)
from oracle.store.errors import EventIdConflict, IllegalTransition, StoreError  # noqa: F401 - re-exported
from oracle.store.history import History
from oracle.store.outbox_ingest import OutboxIngest, utc_day  # noqa: F401 - utc_day re-exported
from oracle.store.outbox_reads import BatchRecord, OutboxReads
from oracle.store.schema import (
    SCHEMA_VERSION,
    batch_attempts,
    batches,
    events,
    metadata,
    schema_version,
    sequence_counters,
)
from oracle.units import to_units

# How a record the registry skipped is noted on its event (then the registry's SkipReason).
NOT_REWARDED = "not rewarded by this transaction: "
# Skips that a later batch can turn into rewards: the record stays unmarked on chain, and the cap
# or the coins' supply may have room later (a new period, a raised cap, coins burned).
RETRYABLE_SKIPS = ("CustomerCapReached", "BrandCapReached", "SupplyLimitReached")


@dataclass(frozen=True)
class Broadcast:
    """One signed transaction carrying a batch (the first, or a fee-bumped replacement)."""

    tx_hash: bytes
    nonce: int
    raw_tx: bytes
    max_fee: int
    priority_fee: int
    sent_at: int


@dataclass(frozen=True)
class OpenBatch:
    batch_id: int
    brand_id: int
    records: tuple[BatchRecord, ...]


class Outbox(OutboxIngest, OutboxReads):
    def __init__(self, engine: Engine, master_key: bytes) -> None:
        self._engine = engine
        self.vault = ContentVault(engine, master_key)

    @classmethod
    def open(cls, url: str, master_key: bytes) -> "Outbox":
        outbox = cls(create_outbox_engine(url), master_key)
        outbox.migrate()
        return outbox

    @property
    def engine(self) -> Engine:
        """The outbox's engine, for the stores that share its database (and its write lock)."""
        return self._engine

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with write_transaction(self._engine) as connection:
            yield connection

    def observe_writer_waits(self, observer: Callable[[float], None]) -> None:
        """Tells `observer` how long each of this process's write transactions waited for the
        writer lock (oracle/store/engine.py): the contention between `serve` and `work`."""
        observe_writer_waits(self._engine, observer)

    def migrate(self) -> None:
        # All in one writing transaction (BEGIN IMMEDIATE on SQLite): processes started together
        # on a new outbox (`servicecoin serve` and `servicecoin work`) queue here; with the tables
        # created outside it, the second failed with "database is locked".
        with self._transaction() as connection:
            serialise(connection, MIGRATION_LOCK)  # PostgreSQL: else two CREATE TABLEs race
            metadata.create_all(connection)
            current = connection.execute(select(func.max(schema_version.c.version))).scalar()
            if current is not None and current > SCHEMA_VERSION:
                raise StoreError(f"the outbox has schema version {current}; this oracle knows up to {SCHEMA_VERSION}")
            # Every migration so far only adds tables and indexes. create_all made the
            # missing tables (with their indexes); an index added to an existing table is made
            # here. A later migration that alters a table runs here too, keyed by `current`.
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(connection, checkfirst=True)
            if current is None or current < SCHEMA_VERSION:
                connection.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            self.vault.check_master_key(connection)

    # ------------------------------------------------------------ policy

    def decide_received(
        self, policy: Policy, address_for: Callable[[str], str], limit: int = 1000
    ) -> list[tuple[bytes, Decision]]:
        """Applies the policy to received events, oldest first, in one transaction: the history
        the policy reads and the decisions it makes cannot interleave with another decider's.
        The history is read once for the group and the decisions written with executemany."""
        decisions = []
        with self._transaction() as connection:
            # First: on PostgreSQL, another decider's rows and history would otherwise be read
            # before it commits, and decided (and numbered) twice.
            serialise(connection, DECISION_LOCK, policy.brand_id)
            rows = connection.execute(
                select(events)
                .where(events.c.state == "received", events.c.brand_id == policy.brand_id)
                .order_by(events.c.received_at, events.c.event_id)
                .limit(limit)
            ).all()
            if not rows:
                return []
            history = History(connection, policy.brand_id, rows)
            next_seq = self._reserve_seqs(connection, policy.brand_id, rows)
            changes = []
            for row in rows:
                candidate = Event(
                    customer_id=row.customer_id,
                    kind=FeedbackKind(row.kind),
                    day=date.fromisoformat(row.day),
                    flags=frozenset(json.loads(row.flags)),
                )
                decision = decide(policy, candidate, history)
                if decision.eligible:
                    units = to_units(decision.base_reward)
                    history.add_eligible(row.customer_id, row.kind, row.day, units)
                    changes.append({"key": row.event_id, "new_state": "eligible", "new_seq": next_seq,
                                    "units": str(units), "address": address_for(row.customer_id), "why": None})
                    next_seq += 1
                else:
                    changes.append({"key": row.event_id, "new_state": "ineligible", "new_seq": None,
                                    "units": None, "address": None, "why": decision.reason})
                decisions.append((row.event_id, decision))
            self._write_decisions(connection, changes)
            self._set_next_seq(connection, policy.brand_id, next_seq)
            history.write(connection)
        return decisions

    @staticmethod
    def _reserve_seqs(connection: Connection, brand_id: int, rows: list[Any]) -> int:
        """The brand's next dense sequence number (its counter row locked on PostgreSQL)."""
        counter = connection.execute(
            select(sequence_counters.c.next_seq).where(sequence_counters.c.brand_id == brand_id).with_for_update()
        ).scalar()
        if counter is None:
            # Sequence numbers start at 1 and stay dense: 256 of them share one bitmap word on chain.
            connection.execute(insert(sequence_counters).values(brand_id=brand_id, next_seq=1))
            return 1
        return int(counter)

    @staticmethod
    def _set_next_seq(connection: Connection, brand_id: int, next_seq: int) -> None:
        connection.execute(
            update(sequence_counters).where(sequence_counters.c.brand_id == brand_id).values(next_seq=next_seq)
        )

    @staticmethod
    def _write_decisions(connection: Connection, changes: list[dict[str, Any]]) -> None:
        statement = (
            update(events)
            .where(events.c.event_id == bindparam("key"), events.c.state == "received")
            .values(
                state=bindparam("new_state"),
                seq=bindparam("new_seq"),
                reward_units=bindparam("units"),
                customer_address=bindparam("address"),
                reason=bindparam("why"),
            )
        )
        result = connection.execute(statement, changes)
        if result.rowcount != len(changes):
            raise IllegalTransition(f"{len(changes) - result.rowcount} event(s) left 'received' while being decided")

    # ------------------------------------------------------------ batches

    def open_batch(
        self, brand_id: int, max_size: int, now: int, occurred_by: int | None = None, max_per_customer: int | None = None
    ) -> OpenBatch | None:
        """Moves up to `max_size` eligible events of a brand, lowest sequence numbers first, into
        a new batch; with `occurred_by`, only events that occurred by then; with
        `max_per_customer`, at most that many of one customer's (the rest wait for a later
        batch). None when there is nothing to batch."""
        query = select(events).where(events.c.state == "eligible", events.c.brand_id == brand_id)
        if occurred_by is not None:
            query = query.where(events.c.occurred_at <= occurred_by)
        with self._transaction() as connection:
            if max_per_customer is None:
                rows = connection.execute(query.order_by(events.c.seq).limit(max_size)).all()
            else:
                rows = self._within_customer_limit(connection, query, max_size, max_per_customer)
            if not rows:
                return None
            batch_id = connection.execute(
                insert(batches).values(brand_id=brand_id, state="open", created_at=now)
            ).inserted_primary_key[0]
            moved = 0
            for chunk in chunks([row.event_id for row in rows], 500):
                moved += connection.execute(
                    update(events)
                    .where(events.c.event_id.in_(chunk), events.c.state == "eligible")
                    .values(state="batched", batch_id=batch_id)
                ).rowcount
            if moved != len(rows):
                raise IllegalTransition(f"{len(rows) - moved} event(s) left 'eligible' while being batched")
        records = tuple(
            BatchRecord(r.event_id, r.customer_address, r.seq, r.kind, r.occurred_at, r.content_commitment) for r in rows
        )
        return OpenBatch(batch_id=int(batch_id), brand_id=brand_id, records=records)

    @staticmethod
    def _within_customer_limit(connection: Connection, query: Any, max_size: int, max_per_customer: int) -> list[Any]:
        """The lowest-seq eligible rows with at most `max_per_customer` per customer, up to
        `max_size`, in one query: each row is ranked within its customer's, so however long one
        customer's backlog, everyone else's events are in the next batch."""
        ranked = query.add_columns(
            func.row_number().over(partition_by=events.c.customer_address, order_by=events.c.seq).label("rank")
        ).subquery()
        return list(connection.execute(
            select(*[ranked.c[column.name] for column in events.columns])
            .where(ranked.c.rank <= max_per_customer)
            .order_by(ranked.c.seq)
            .limit(max_size)
        ).all())

    def mark_signed(
        self, batch_id: int, policy_hash: bytes, deadline: int, digest: bytes, signatures: list[bytes]
    ) -> None:
        with self._transaction() as connection:
            self._batch_transition(
                connection,
                batch_id,
                ("open",),
                "signed",
                policy_hash=policy_hash,
                deadline=deadline,
                digest=digest,
                signatures=json.dumps([s.hex() for s in signatures]),
            )

    def mark_submitted(self, batch_id: int, broadcast: Broadcast) -> None:
        """Records the signed transaction before it is broadcast: after a crash, the same bytes
        are re-broadcast rather than a second transaction signed."""
        with self._transaction() as connection:
            self._batch_transition(
                connection,
                batch_id,
                ("signed",),
                "submitted",
                tx_hash=broadcast.tx_hash,
                nonce=broadcast.nonce,
                raw_tx=broadcast.raw_tx,
            )
            self._insert_attempt(connection, batch_id, broadcast)
            self._events_of_batch_to(connection, batch_id, "batched", "submitted")

    def record_replacement(self, batch_id: int, broadcast: Broadcast) -> None:
        """A fee-bumped transaction with the same nonce replaces the batch's current one; the
        earlier attempts stay listed, since any of them may still be mined."""
        with self._transaction() as connection:
            self._batch_transition(
                connection, batch_id, ("submitted",), "submitted", tx_hash=broadcast.tx_hash, raw_tx=broadcast.raw_tx
            )
            self._insert_attempt(connection, batch_id, broadcast)

    @staticmethod
    def _insert_attempt(connection: Connection, batch_id: int, broadcast: Broadcast) -> None:
        known = select(batch_attempts.c.batch_id).where(batch_attempts.c.tx_hash == broadcast.tx_hash)
        if connection.execute(known).first() is not None:
            # A resubmission after a reorg can sign byte-for-byte the same transaction (same
            # nonce, calldata and fees), hence the same hash: it is the same attempt.
            return
        connection.execute(
            insert(batch_attempts).values(
                tx_hash=broadcast.tx_hash,
                batch_id=batch_id,
                nonce=broadcast.nonce,
                max_fee=str(broadcast.max_fee),
                priority_fee=str(broadcast.priority_fee),
                sent_at=broadcast.sent_at,
            )
        )

    def mark_confirmed(
        self,
        batch_id: int,
        tx_hash: bytes,
        block_number: int,
        block_hash: bytes,
        not_rewarded: dict[bytes, str] | None = None,
    ) -> None:
        """The batch is in a block (`tx_hash`: whichever of its attempts was mined).
        `not_rewarded`: records the registry skipped, with its reason, kept on the event.
        AlreadyRecorded is expected after a resubmission (an earlier transaction rewarded it);
        otherwise it means the sequence number was used by another outbox, which the start-up
        self-check exists to prevent."""
        with self._transaction() as connection:
            connection.execute(update(events).where(events.c.batch_id == batch_id).values(reason=None))
            for key, reason in (not_rewarded or {}).items():
                connection.execute(
                    update(events)
                    .where(events.c.event_id == key, events.c.batch_id == batch_id)
                    .values(reason=NOT_REWARDED + reason)
                )
            self._batch_transition(
                connection,
                batch_id,
                ("submitted", "confirmed"),
                "confirmed",
                tx_hash=tx_hash,
                block_number=block_number,
                block_hash=block_hash,
            )
            self._events_of_batch_to(connection, batch_id, "submitted", "confirmed")

    def requeue_skipped(
        self, policy: Policy, address_for: Callable[[str], str], dry_run: bool = False
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Final events of the policy's brand that the registry skipped for a retryable reason
        (RETRYABLE_SKIPS) go back to eligible, to be batched again. Each keeps its sequence
        number, so the registry's record-once check still guards it: nothing can be paid twice.
        Its address is resolved again (the customer may have linked a wallet since). A kind the
        current policy no longer rewards is left as it is (a co-signer would refuse it).
        Returns (re-queued, left) counts by reason. With `dry_run`, only the counts."""
        skipped = (events.c.brand_id == policy.brand_id, events.c.state == "final",
                   events.c.reason.in_([NOT_REWARDED + reason for reason in RETRYABLE_SKIPS]))
        requeued: dict[str, int] = {}
        left: dict[str, int] = {}
        with self._transaction() as connection:
            # Addresses are resolved here as in a decision: a wallet link waits for this, then
            # re-addresses what it made eligible (oracle/identity.py).
            serialise(connection, DECISION_LOCK, policy.brand_id)
            rows = connection.execute(
                select(events.c.event_id, events.c.customer_id, events.c.kind, events.c.reason).where(*skipped)
            ).all()
            changes = []
            for row in rows:
                reason = row.reason.removeprefix(NOT_REWARDED)
                if policy.rule_for(FeedbackKind(row.kind)) is None:
                    left[reason] = left.get(reason, 0) + 1
                    continue
                requeued[reason] = requeued.get(reason, 0) + 1
                changes.append({"key": row.event_id, "address": address_for(row.customer_id)})
            if not dry_run and changes:
                connection.execute(
                    update(events)
                    .where(events.c.event_id == bindparam("key"), events.c.state == "final")
                    .values(state="eligible", customer_address=bindparam("address"), reason=None, batch_id=None),
                    changes,
                )
        return requeued, left

    def resign(self, batch_id: int) -> None:
        """Signed but never mined, and its deadline is passing: back to open, to be signed
        again with a new deadline. Its records (and sequence numbers) stay the same."""
        with self._transaction() as connection:
            self._batch_transition(
                connection, batch_id, ("signed",), "open", policy_hash=None, deadline=None, digest=None, signatures=None
            )

    def mark_final(self, batch_id: int) -> None:
        with self._transaction() as connection:
            self._batch_transition(connection, batch_id, ("confirmed",), "final")
            self._events_of_batch_to(connection, batch_id, "confirmed", "final")

    def reopen(self, batch_id: int) -> None:
        """The batch's transaction vanished (dropped, or reorged out before finality): back to
        signed, to be submitted again. The registry skips records already recorded, so a
        resubmission rewards nothing twice."""
        with self._transaction() as connection:
            self._batch_transition(
                connection,
                batch_id,
                ("submitted", "confirmed"),
                "signed",
                tx_hash=None,
                nonce=None,
                raw_tx=None,
                block_number=None,
                block_hash=None,
            )
            connection.execute(
                update(events)
                .where(events.c.batch_id == batch_id, events.c.state.in_(("submitted", "confirmed")))
                .values(state="batched")
            )

    # ------------------------------------------------------------ internals

    def _transition(self, connection: Connection, event_id: bytes, source: str, target: str, **values: Any) -> None:
        result = connection.execute(
            update(events)
            .where(events.c.event_id == event_id, events.c.state == source)
            .values(state=target, **values)
        )
        if result.rowcount != 1:
            raise IllegalTransition(f"event {event_id.hex()}: not in state {source!r}, cannot become {target!r}")

    def _batch_transition(
        self, connection: Connection, batch_id: int, sources: tuple[str, ...], target: str, **values: Any
    ) -> None:
        result = connection.execute(
            update(batches)
            .where(batches.c.batch_id == batch_id, batches.c.state.in_(sources))
            .values(state=target, **values)
        )
        if result.rowcount != 1:
            raise IllegalTransition(f"batch {batch_id}: not in state {' or '.join(sources)}, cannot become {target!r}")

    def _events_of_batch_to(self, connection: Connection, batch_id: int, source: str, target: str) -> None:
        connection.execute(
            update(events).where(events.c.batch_id == batch_id, events.c.state == source).values(state=target)
        )
