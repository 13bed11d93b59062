"""Queues and posts proof notes, one step at a time (run by `servicecoin run` next to the
pipeline, in its own thread: the outbox's hot path never waits for a helpdesk).

Each step queues the notes of rewards that became final, then posts the notes that are due.
A failed post is retried with exponential backoff (first, doubled, capped; persisted in the
row), a 429 after the helpdesk's Retry-After, and a definitive refusal is not retried at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from oracle.chain.record_lookup import record_from_outbox_row
from oracle.chain.registry import RegistryClient
from oracle.notes.adapter import NotesAdapter, PostResult
from oracle.notes.proof import RewardProof, render_note
from oracle.notes.queue import Note, NoteQueue
from oracle.store.outbox import Outbox
from oracle.typed_data import FeedbackRecord

log = logging.getLogger("servicecoin.notes")


@dataclass
class NotesStepReport:
    queued: int = 0
    posted: int = 0
    retried: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)


class Proofs(Protocol):
    def proof(self, event_id: bytes, record: FeedbackRecord | None, tx_hint: bytes | None) -> RewardProof | None:
        """The reward's proof, or None when the chain holds no reward for the event. `record`: the
        event's record as the outbox signed it; `tx_hint`: where the outbox saw its batch mined."""


class ChainProofs:
    """Proofs as the chain has them: the batch transaction that rewarded the event."""

    def __init__(self, registry: RegistryClient, brand_id: int) -> None:
        self.registry = registry
        self.brand_id = brand_id
        self._chain_id: int | None = None

    def proof(self, event_id: bytes, record: FeedbackRecord | None, tx_hint: bytes | None) -> RewardProof | None:
        found = self.registry.find_record(self.brand_id, event_id, record=record, tx_hint=tx_hint)
        if found is None:
            return None
        if self._chain_id is None:
            self._chain_id = int(self.registry.w3.eth.chain_id)
        return RewardProof(
            event_id=event_id, seq=int(found.seq), reward_units=int(found.reward), tx_hash=found.tx_hash,
            block_number=found.block_number, registry=self.registry.address, chain_id=self._chain_id,
        )


class NotesWorker:
    def __init__(
        self,
        outbox: Outbox,
        proofs: Proofs,
        adapters: Mapping[str, NotesAdapter],
        explorer_tx_url: str | None = None,
        clock: Callable[[], float] = time.time,
        batch_size: int = 50,
    ) -> None:
        self.outbox = outbox
        self.queue = NoteQueue(outbox.engine)
        self.proofs = proofs
        self.adapters = dict(adapters)
        self.explorer_tx_url = explorer_tx_url
        self.clock = clock
        self.batch_size = batch_size
        # While a helpdesk says "too many requests" or refuses our credentials, nothing is sent
        # to it: one wait for all its notes, not one failed request per note.
        self._paused_until: dict[str, float] = {}

    def step(self) -> NotesStepReport:
        report = NotesStepReport()
        now = self.clock()
        report.queued = self.queue.enqueue_final({s: a.ticket_for for s, a in self.adapters.items()}, int(now))
        for note in self.queue.due(now, self.batch_size):
            if self._paused_until.get(note.helpdesk, 0.0) > self.clock():
                continue
            self._post(note, report)
        return report

    def _post(self, note: Note, report: NotesStepReport) -> None:
        adapter = self.adapters.get(note.helpdesk)
        if adapter is None:
            return  # its helpdesk's notes were switched off in the config: kept for later
        proof = self.proof(note.event_id)
        if proof is None:
            self.queue.mark_failed(note.event_id, "no reward for this event on chain")
            report.failed += 1
            return
        now = self.clock()
        attempts = self.queue.record_attempt(note.event_id, now + adapter.retry.delay(note.attempts + 1))
        result = adapter.post(note.ticket_id, render_note(proof, self.explorer_tx_url))
        self._settle(note, adapter, attempts, result, report)

    def _settle(self, note: Note, adapter: NotesAdapter, attempts: int, result: PostResult, report: NotesStepReport) -> None:
        now = self.clock()
        where = f"note for {note.helpdesk} ticket {note.ticket_id} (event 0x{note.event_id.hex()})"
        if result.outcome == "posted":
            self.queue.mark_posted(note.event_id, int(now))
            report.posted += 1
            log.info("%s posted", where)
            return
        if result.pause_all or result.retry_after is not None:
            pause = result.retry_after if result.retry_after is not None else adapter.retry.max_retry_seconds
            self._paused_until[note.helpdesk] = now + pause
        if result.outcome == "failed":
            self.queue.mark_failed(note.event_id, result.reason)
            report.failed += 1
            report.problems.append(f"{where} failed: {result.reason}")
            log.error("%s failed: %s", where, result.reason)
        elif attempts >= adapter.retry.max_attempts:
            reason = f"gave up after {attempts} attempts; last: {result.reason}"
            self.queue.mark_failed(note.event_id, reason)
            report.failed += 1
            report.problems.append(f"{where} failed: {reason}")
            log.error("%s failed: %s", where, reason)
        else:
            wait = result.retry_after if result.retry_after is not None else adapter.retry.delay(attempts)
            self.queue.retry_later(note.event_id, now + wait, result.reason)
            report.retried += 1
            log.warning("%s: %s; retry in %.0f s", where, result.reason, wait)

    def proof(self, event_id: bytes) -> RewardProof | None:
        row = self.outbox.event_row(event_id)
        batch = self.outbox.batch_row(row.batch_id) if row is not None and row.batch_id is not None else None
        return self.proofs.proof(event_id, record_from_outbox_row(row), batch.tx_hash if batch is not None else None)
