"""Proof notes to Zendesk: the adapter and the worker against a real local HTTP server that
implements Zendesk's ticket update endpoint (scripts/local_zendesk.py), with a real outbox.
The chain's part (the batch transaction that rewarded the event) comes from a fixed proof here;
on Anvil in tests/integration/test_customer_wallets.py."""

from __future__ import annotations

import secrets
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from oracle.events import HelpdeskEvent
from oracle.ingest.server import free_port, serving
from oracle.kinds import FeedbackKind
from oracle.notes.adapter import RetryPolicy
from oracle.notes.proof import RewardProof
from oracle.notes.worker import NotesWorker
from oracle.notes.zendesk import ZendeskNotes, retry_after_seconds
from oracle.policy import load_policy
from oracle.store.outbox import Broadcast, Outbox
from oracle.typed_data import FeedbackRecord
from scripts.local_zendesk import LocalZendesk

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
T0 = 1_795_000_000
EMAIL, TOKEN = "agent@brand.example", "zd-api-token"
RETRY = RetryPolicy(max_attempts=3, first_retry_seconds=5, max_retry_seconds=60)
TX = b"\xab" * 32


@pytest.fixture
def zendesk():
    server = LocalZendesk(EMAIL, TOKEN, tickets={"208", "209", "210", "211"})
    with serving(server.app()) as url:
        server.url = url
        yield server


def adapter(url: str, token: str = TOKEN) -> ZendeskNotes:
    return ZendeskNotes(url, EMAIL, token, RETRY, timeout=5)


# ------------------------------------------------------------------ the adapter


def test_a_note_is_a_private_comment_sent_with_token_auth(zendesk) -> None:
    result = adapter(zendesk.url).post("208", "the proof")
    assert result.outcome == "posted"
    [request] = zendesk.received
    assert request.authorized and request.ticket_id == "208"
    assert request.body == {"ticket": {"comment": {"body": "the proof", "public": False}}}


def test_wrong_credentials_fail_the_note_and_pause_the_helpdesk(zendesk) -> None:
    result = adapter(zendesk.url, token="wrong").post("208", "the proof")
    assert (result.outcome, result.pause_all) == ("failed", True)
    assert result.reason == "HTTP 401: Couldn't authenticate you"
    assert [r.authorized for r in zendesk.received] == [False]


def test_an_unknown_ticket_fails_with_zendesks_reason(zendesk) -> None:
    result = adapter(zendesk.url).post("999", "the proof")
    assert (result.outcome, result.reason) == ("failed", "HTTP 404: RecordNotFound: Not found")


def test_429_is_retried_after_its_retry_after(zendesk) -> None:
    zendesk.answer_next("208", 429, {"Retry-After": "17"})
    result = adapter(zendesk.url).post("208", "the proof")
    assert (result.outcome, result.retry_after) == ("retry", 17.0)


@pytest.mark.parametrize("status", [500, 503, 409])
def test_server_errors_and_conflicts_are_retried(zendesk, status: int) -> None:
    zendesk.answer_next("208", status)
    assert adapter(zendesk.url).post("208", "the proof").outcome == "retry"


def test_an_unreachable_zendesk_is_retried() -> None:
    result = adapter(f"http://127.0.0.1:{free_port()}").post("208", "the proof")
    assert result.outcome == "retry" and result.reason.startswith("Zendesk unreachable: ConnectError")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("999999") == 3600.0  # capped: a note is not worth a day's silence


def test_only_csat_ticket_events_name_a_ticket() -> None:
    notes = adapter("http://127.0.0.1:9")
    assert notes.ticket_for("csat:ticket:208") == "208"
    assert notes.ticket_for("survey-8812") is None and notes.ticket_for("csat:ticket:2x") is None


# ------------------------------------------------------------------ the worker


class FixedProofs:
    """The chain's answer for every event: recorded in TX at block 120, 2 SVC. Keeps what it was
    asked: the record as the outbox signed it (found on chain by its hash) and the transaction
    the outbox saw it mined in (read first)."""

    def __init__(self) -> None:
        self.asked: list[tuple[bytes, FeedbackRecord | None, bytes | None]] = []

    def proof(self, event_id: bytes, record: FeedbackRecord | None, tx_hint: bytes | None) -> RewardProof:
        self.asked.append((event_id, record, tx_hint))
        return RewardProof(event_id, seq=7, reward_units=2 * 10**18, tx_hash=TX, block_number=120,
                           registry="0x" + "11" * 20, chain_id=31337)


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def outbox(outbox_url: str) -> Outbox:
    return Outbox.open(outbox_url, secrets.token_bytes(32))  # SQLite and PostgreSQL


def make_final(outbox: Outbox, *helpdesk_ids: str, source: str = "zendesk") -> list[bytes]:
    """Drives events through the outbox's states to final, as the pipeline does."""
    events = [HelpdeskEvent(1, source, h, f"c-{h}", FeedbackKind.CSAT_RATING, T0) for h in helpdesk_ids]
    for event in events:
        outbox.receive(event, {"rating": "good"}, received_at=T0)
    outbox.decide_received(load_policy(EXAMPLE_POLICY).policy, lambda customer: "0x" + "22" * 20)
    batch = outbox.open_batch(brand_id=1, max_size=100, now=T0)
    outbox.mark_signed(batch.batch_id, b"\x07" * 32, T0 + 600, b"\x08" * 32, [b"\x09" * 65])
    outbox.mark_submitted(batch.batch_id, Broadcast(TX, 1, b"raw", max_fee=2, priority_fee=1, sent_at=T0))
    outbox.mark_confirmed(batch.batch_id, TX, 120, b"\x0b" * 32)
    outbox.mark_final(batch.batch_id)
    return [event.id for event in events]


def worker(outbox: Outbox, url: str, clock: Clock) -> NotesWorker:
    return NotesWorker(outbox, FixedProofs(), {"zendesk": adapter(url)}, explorer_tx_url="https://scan.example/tx/{tx}",
                       clock=clock)


def test_a_final_reward_gets_exactly_one_note_with_its_proof(outbox, zendesk) -> None:
    [key] = make_final(outbox, "csat:ticket:208")
    clock = Clock()
    notes = worker(outbox, zendesk.url, clock)
    report = notes.step()
    assert (report.queued, report.posted) == (1, 1)
    [comment] = zendesk.comments("208")
    assert f"Transaction: 0x{TX.hex()} (https://scan.example/tx/0x{TX.hex()})" in comment
    assert f"Event id: 0x{key.hex()}" in comment
    assert "Block: 120 (chain 31337)" in comment and "Reward: 2 SVC" in comment and "Sequence number: 7" in comment
    clock.now += 3600
    again = notes.step()
    assert (again.queued, again.posted) == (0, 0)
    assert len(zendesk.received) == 1
    note = notes.queue.get(key)
    assert (note.state, note.attempts, note.posted_at) == ("posted", 1, T0)
    # Searched where it is cheap: its batch's transaction first, by the record's hash.
    [(asked_key, record, tx_hint)] = notes.proofs.asked
    assert (asked_key, tx_hint) == (key, TX)
    assert record is not None and (record.event_id, record.customer.lower()) == (key, "0x" + "22" * 20)


def test_a_429_waits_for_retry_after_then_posts(outbox, zendesk) -> None:
    [key] = make_final(outbox, "csat:ticket:209")
    zendesk.answer_next("209", 429, {"Retry-After": "30"})
    clock = Clock()
    notes = worker(outbox, zendesk.url, clock)
    assert notes.step().retried == 1
    assert notes.queue.get(key).next_attempt_at == T0 + 30
    clock.now += 20
    notes.step()
    assert len(zendesk.received) == 1  # too early: nothing sent
    clock.now += 11
    assert notes.step().posted == 1
    assert [r.status for r in zendesk.received] == [429, 200]


def test_a_500_is_retried_with_backoff_that_survives_a_restart(outbox, zendesk) -> None:
    [key] = make_final(outbox, "csat:ticket:210")
    zendesk.answer_next("210", 500)
    clock = Clock()
    assert worker(outbox, zendesk.url, clock).step().retried == 1
    note = worker(outbox, zendesk.url, clock).queue.get(key)
    assert (note.attempts, note.next_attempt_at, note.last_error) == (1, T0 + 5, "HTTP 500: scripted 500")
    clock.now += 4
    restarted = worker(outbox, zendesk.url, clock)  # a new process reads the schedule from the table
    restarted.step()
    assert len(zendesk.received) == 1
    clock.now += 1
    assert restarted.step().posted == 1
    assert [r.status for r in zendesk.received] == [500, 200]


def test_a_404_fails_at_once_and_is_never_retried(outbox, zendesk) -> None:
    [key] = make_final(outbox, "csat:ticket:404")
    clock = Clock()
    notes = worker(outbox, zendesk.url, clock)
    report = notes.step()
    assert report.failed == 1 and "HTTP 404: RecordNotFound: Not found" in report.problems[0]
    for _ in range(3):
        clock.now += 3600
        notes.step()
    assert len(zendesk.received) == 1
    note = notes.queue.get(key)
    assert (note.state, note.last_error) == ("failed", "HTTP 404: RecordNotFound: Not found")


def test_a_note_that_keeps_failing_gives_up_after_max_attempts(outbox, zendesk) -> None:
    [key] = make_final(outbox, "csat:ticket:211")
    for _ in range(5):
        zendesk.answer_next("211", 503)
    clock = Clock()
    notes = worker(outbox, zendesk.url, clock)
    for _ in range(6):
        notes.step()
        clock.now += 60
    assert len(zendesk.received) == RETRY.max_attempts
    note = notes.queue.get(key)
    assert note.state == "failed" and note.last_error == "gave up after 3 attempts; last: HTTP 503: scripted 503"


def test_only_zendesk_ticket_events_are_queued(outbox, zendesk) -> None:
    make_final(outbox, "survey-1", "csat:ticket:208")  # a Zendesk event without a ticket, one with
    make_final(outbox, "csat:ticket:209", source="freshdesk")  # no notes adapter for Freshdesk here
    notes = worker(outbox, zendesk.url, Clock())
    assert notes.step().queued == 1
    assert [r.ticket_id for r in zendesk.received] == ["208"]


def test_a_record_the_registry_skipped_gets_no_note(outbox, zendesk) -> None:
    events = [HelpdeskEvent(1, "zendesk", "csat:ticket:208", "c", FeedbackKind.CSAT_RATING, T0)]
    outbox.receive(events[0], {"rating": "good"}, received_at=T0)
    outbox.decide_received(load_policy(EXAMPLE_POLICY).policy, lambda customer: "0x" + "22" * 20)
    batch = outbox.open_batch(brand_id=1, max_size=100, now=T0)
    outbox.mark_signed(batch.batch_id, b"\x07" * 32, T0 + 600, b"\x08" * 32, [b"\x09" * 65])
    outbox.mark_submitted(batch.batch_id, Broadcast(TX, 1, b"raw", max_fee=2, priority_fee=1, sent_at=T0))
    outbox.mark_confirmed(batch.batch_id, TX, 120, b"\x0b" * 32, not_rewarded={events[0].id: "CustomerCapReached"})
    outbox.mark_final(batch.batch_id)
    assert worker(outbox, zendesk.url, Clock()).step().queued == 0
    assert zendesk.received == []
