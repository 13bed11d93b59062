"""The transactional outbox on a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from oracle.events import HelpdeskEvent, event_id
from oracle.kinds import FeedbackKind
from oracle.policy import load_policy
from oracle.store.outbox import Broadcast, IllegalTransition, Outbox, StoreError
from oracle.store.schema import SCHEMA_VERSION, schema_version

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
T0 = 1_795_000_000  # 2026-11-18, a fixed clock
MASTER_KEY = keccak(text="servicecoin-test-master-key")


def address_for(customer_id: str) -> str:
    return Account.from_key(keccak(text=f"custodial/{customer_id}")).address


def helpdesk_event(n: int, customer: str = "cust-1", kind: FeedbackKind = FeedbackKind.CSAT_RATING, brand: int = 1):
    return HelpdeskEvent(
        brand_id=brand,
        source="zendesk",
        helpdesk_event_id=f"ticket-{n}",
        customer_id=customer,
        kind=kind,
        occurred_at=T0 + n,
    )


@pytest.fixture
def url(outbox_url: str) -> str:
    return outbox_url  # SQLite and PostgreSQL (tests/oracle/conftest.py)


@pytest.fixture
def outbox(url: str) -> Outbox:
    return Outbox.open(url, MASTER_KEY)


@pytest.fixture
def policy():
    return load_policy(EXAMPLE_POLICY).policy


def receive(outbox: Outbox, *evts: HelpdeskEvent) -> None:
    for e in evts:
        outbox.receive(e, {"comment": f"content of {e.helpdesk_event_id}"}, received_at=e.occurred_at)


def test_event_id_is_deterministic_and_unambiguous() -> None:
    assert event_id(1, "zendesk", "42") == event_id(1, "zendesk", "42")
    assert event_id(1, "ab", "c") != event_id(1, "a", "bc")
    assert event_id(1, "zendesk", "42") != event_id(2, "zendesk", "42")


def test_sqlite_runs_in_wal_mode(outbox: Outbox) -> None:
    if outbox.engine.dialect.name != "sqlite":
        pytest.skip("a setting of SQLite's")
    with outbox._engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_new_event_is_stored_as_received_with_its_sealed_content(outbox: Outbox) -> None:
    event = helpdesk_event(1)
    assert outbox.receive(event, {"rating": 5}, received_at=T0) is True
    assert outbox.event_state(event.id) == "received"
    opened = outbox.vault.open(event.id)
    assert opened.content == {"rating": 5}
    assert outbox.event_row(event.id).content_commitment == opened.commitment


def test_a_redelivery_changes_nothing(outbox: Outbox) -> None:
    event = helpdesk_event(1)
    outbox.receive(event, {"rating": 5}, received_at=T0)
    first = outbox.event_row(event.id)
    assert outbox.receive(event, {"rating": 1}, received_at=T0 + 99) is False
    row = outbox.event_row(event.id)
    assert (row.content_commitment, row.received_at) == (first.content_commitment, T0)
    assert outbox.vault.open(event.id).content == {"rating": 5}
    assert outbox.counts_by_state() == {"received": 1}


def test_eligible_events_get_dense_sequence_numbers_in_arrival_order(outbox: Outbox, policy) -> None:
    evts = [helpdesk_event(n, customer=f"c{n}") for n in range(1, 6)]
    receive(outbox, *evts)
    decisions = outbox.decide_received(policy, address_for)
    assert [d.eligible for _, d in decisions] == [True] * 5
    assert [outbox.event_row(e.id).seq for e in evts] == [1, 2, 3, 4, 5]
    assert outbox.event_row(evts[0].id).customer_address == address_for("c1")
    assert outbox.event_row(evts[0].id).reward_units == str(2 * 10**18)


def test_rate_limit_is_enforced_from_the_stored_history(outbox: Outbox, policy) -> None:
    evts = [helpdesk_event(n, kind=FeedbackKind.SURVEY_RESPONSE) for n in range(1, 5)]
    receive(outbox, *evts)
    outbox.decide_received(policy, address_for)
    assert [outbox.event_state(e.id) for e in evts] == ["eligible"] * 3 + ["ineligible"]
    last = outbox.event_row(evts[3].id)
    assert last.reason == "rate limit: 3 survey_response per customer per day"
    assert last.seq is None


def test_the_limit_counts_earlier_decisions_too(outbox: Outbox, policy) -> None:
    receive(outbox, *[helpdesk_event(n, kind=FeedbackKind.SURVEY_RESPONSE) for n in range(1, 4)])
    outbox.decide_received(policy, address_for)
    late = helpdesk_event(9, kind=FeedbackKind.SURVEY_RESPONSE)
    receive(outbox, late)
    outbox.decide_received(policy, address_for)
    assert outbox.event_state(late.id) == "ineligible"


def test_daily_budget_is_per_brand_and_exact_beyond_64_bit_integers(outbox: Outbox, policy) -> None:
    tight = policy.model_copy(update={"daily_budget": 12})  # 12 coins = 1.2e19 units > 2**63
    reviews = [helpdesk_event(n, customer=f"c{n}", kind=FeedbackKind.SURVEY_RESPONSE) for n in range(1, 4)]
    other_brand = helpdesk_event(9, customer="c9", kind=FeedbackKind.SURVEY_RESPONSE, brand=2)
    receive(outbox, *reviews, other_brand)
    outbox.decide_received(tight, address_for)
    outbox.decide_received(tight.model_copy(update={"brand_id": 2}), address_for)
    assert [outbox.event_state(e.id) for e in reviews] == ["eligible", "eligible", "ineligible"]
    assert outbox.event_row(reviews[2].id).reason == "daily budget of 12 coins reached"
    assert outbox.event_state(other_brand.id) == "eligible"


def test_failed_quality_gate_is_ineligible_with_its_reason(outbox: Outbox, policy) -> None:
    question = helpdesk_event(1, kind=FeedbackKind.VALID_QUESTION)
    receive(outbox, question)
    outbox.decide_received(policy, address_for)
    assert outbox.event_row(question.id).reason == "quality gate: missing agent_marked_valid"


def test_sequence_numbers_are_per_brand(outbox: Outbox, policy) -> None:
    first, other = helpdesk_event(1, brand=1), helpdesk_event(2, brand=2)
    receive(outbox, first, other)
    outbox.decide_received(policy, address_for)
    outbox.decide_received(policy.model_copy(update={"brand_id": 2}), address_for)
    assert (outbox.event_row(first.id).seq, outbox.event_row(other.id).seq) == (1, 1)


def test_a_brand_id_beyond_31_bits_is_decided(outbox: Outbox, policy) -> None:
    # Brand ids are uint32, as on chain; PostgreSQL's advisory lock keys are signed 32-bit.
    big = policy.model_copy(update={"brand_id": 4_000_000_000})
    event = helpdesk_event(1, brand=4_000_000_000)
    receive(outbox, event)
    assert [decision.eligible for _, decision in outbox.decide_received(big, address_for)] == [True]
    assert outbox.event_row(event.id).seq == 1


def test_a_failure_mid_decision_rolls_everything_back(outbox: Outbox, policy) -> None:
    receive(outbox, *[helpdesk_event(n, customer=f"c{n}") for n in range(1, 4)])

    def failing(customer_id: str) -> str:
        if customer_id == "c3":
            raise RuntimeError("identity service down")
        return address_for(customer_id)

    with pytest.raises(RuntimeError, match="identity service down"):
        outbox.decide_received(policy, failing)
    assert outbox.counts_by_state() == {"received": 3}
    outbox.decide_received(policy, address_for)  # retried later: the numbers start again at 1
    assert sorted(outbox.event_row(helpdesk_event(n, customer=f"c{n}").id).seq for n in range(1, 4)) == [1, 2, 3]


def test_open_batch_takes_the_lowest_sequence_numbers(outbox: Outbox, policy) -> None:
    receive(outbox, *[helpdesk_event(n, customer=f"c{n}") for n in range(1, 6)])
    outbox.decide_received(policy, address_for)
    first = outbox.open_batch(brand_id=1, max_size=3, now=T0)
    second = outbox.open_batch(brand_id=1, max_size=3, now=T0)
    assert [r.seq for r in first.records] == [1, 2, 3]
    assert [r.seq for r in second.records] == [4, 5]
    assert outbox.open_batch(brand_id=1, max_size=3, now=T0) is None
    assert outbox.counts_by_state() == {"batched": 5}


def broadcast(tag: int, nonce: int, raw: bytes = b"raw-signed-tx", fee: int = 10**9) -> Broadcast:
    return Broadcast(bytes([tag]) * 32, nonce, raw, max_fee=2 * fee, priority_fee=fee, sent_at=T0)


def batch_through_submission(outbox: Outbox, policy):
    receive(outbox, *[helpdesk_event(n, customer=f"c{n}") for n in range(1, 3)])
    outbox.decide_received(policy, address_for)
    batch = outbox.open_batch(brand_id=1, max_size=10, now=T0)
    outbox.mark_signed(batch.batch_id, b"\x07" * 32, T0 + 600, b"\x08" * 32, [b"\x09" * 65])
    outbox.mark_submitted(batch.batch_id, broadcast(0x0A, 5))
    return batch


def test_a_batch_moves_through_its_lifecycle_with_its_events(outbox: Outbox, policy) -> None:
    batch = batch_through_submission(outbox, policy)
    assert outbox.counts_by_state() == {"submitted": 2}
    row = outbox.batch_row(batch.batch_id)
    assert (row.state, row.tx_hash, row.nonce, row.raw_tx) == ("submitted", b"\x0a" * 32, 5, b"raw-signed-tx")
    outbox.mark_confirmed(batch.batch_id, b"\x0a" * 32, 120, b"\x0b" * 32)
    assert outbox.counts_by_state() == {"confirmed": 2}
    outbox.mark_final(batch.batch_id)
    assert outbox.counts_by_state() == {"final": 2}
    assert outbox.batch_row(batch.batch_id).state == "final"


def test_submitting_an_unsigned_batch_is_refused(outbox: Outbox, policy) -> None:
    receive(outbox, helpdesk_event(1))
    outbox.decide_received(policy, address_for)
    batch = outbox.open_batch(brand_id=1, max_size=10, now=T0)
    with pytest.raises(IllegalTransition, match=f"batch {batch.batch_id}: not in state signed"):
        outbox.mark_submitted(batch.batch_id, broadcast(0x0A, 0))
    assert outbox.batch_row(batch.batch_id).state == "open"


def test_finalising_twice_is_refused(outbox: Outbox, policy) -> None:
    batch = batch_through_submission(outbox, policy)
    outbox.mark_confirmed(batch.batch_id, b"\x0a" * 32, 120, b"\x0b" * 32)
    outbox.mark_final(batch.batch_id)
    with pytest.raises(IllegalTransition):
        outbox.mark_final(batch.batch_id)


def test_a_reorged_batch_is_reopened_for_resubmission(outbox: Outbox, policy) -> None:
    batch = batch_through_submission(outbox, policy)
    outbox.mark_confirmed(batch.batch_id, b"\x0a" * 32, 120, b"\x0b" * 32)
    outbox.reopen(batch.batch_id)
    row = outbox.batch_row(batch.batch_id)
    assert (row.state, row.tx_hash, row.nonce, row.block_number) == ("signed", None, None, None)
    assert row.digest == b"\x08" * 32  # the signed batch itself is kept, to be sent again
    assert outbox.counts_by_state() == {"batched": 2}
    outbox.mark_submitted(batch.batch_id, broadcast(0x0C, 6, b"raw-2"))
    assert outbox.counts_by_state() == {"submitted": 2}


def test_a_replacement_keeps_every_attempt_and_the_mined_one_is_recorded(outbox: Outbox, policy) -> None:
    batch = batch_through_submission(outbox, policy)
    outbox.record_replacement(batch.batch_id, broadcast(0x0D, 5, b"raw-bumped", fee=2 * 10**9))
    row = outbox.batch_row(batch.batch_id)
    assert (row.state, row.tx_hash, row.raw_tx, row.nonce) == ("submitted", b"\x0d" * 32, b"raw-bumped", 5)
    attempts = outbox.attempts(batch.batch_id)
    assert [(a.tx_hash[0], a.nonce, int(a.priority_fee)) for a in attempts] == [(0x0A, 5, 10**9), (0x0D, 5, 2 * 10**9)]
    assert outbox.highest_nonce_in_flight() == 5
    # The first attempt, not the replacement, made it into a block.
    outbox.mark_confirmed(batch.batch_id, b"\x0a" * 32, 120, b"\x0b" * 32)
    assert outbox.batch_row(batch.batch_id).tx_hash == b"\x0a" * 32
    assert outbox.highest_nonce_in_flight() is None


def test_an_expiring_signed_batch_is_resigned_with_the_same_records(outbox: Outbox, policy) -> None:
    receive(outbox, *[helpdesk_event(n, customer=f"c{n}") for n in range(1, 4)])
    outbox.decide_received(policy, address_for)
    batch = outbox.open_batch(brand_id=1, max_size=10, now=T0)
    outbox.mark_signed(batch.batch_id, b"\x07" * 32, T0 + 600, b"\x08" * 32, [b"\x09" * 65])
    outbox.resign(batch.batch_id)
    row = outbox.batch_row(batch.batch_id)
    assert (row.state, row.deadline, row.signatures) == ("open", None, None)
    assert outbox.batch_records(batch.batch_id) == batch.records
    assert outbox.counts_by_state() == {"batched": 3}


def test_the_backlog_counts_eligible_events_and_their_oldest_receipt(outbox: Outbox, policy) -> None:
    assert outbox.eligible_backlog(1) == (0, None)
    receive(outbox, *[helpdesk_event(n, customer=f"c{n}") for n in range(3, 6)])
    outbox.decide_received(policy, address_for)
    assert outbox.eligible_backlog(1) == (3, T0 + 3)
    assert outbox.eligible_backlog(2) == (0, None)


def test_an_outbox_of_schema_1_is_migrated(url: str) -> None:
    outbox = Outbox.open(url, MASTER_KEY)
    with outbox._engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE batch_attempts")
        connection.exec_driver_sql("DROP TABLE wallet_links")
        connection.exec_driver_sql("DROP INDEX ix_events_batch")
        connection.exec_driver_sql("DROP INDEX ix_events_brand_state")  # added in v4
        connection.exec_driver_sql("DELETE FROM schema_version")
        connection.exec_driver_sql("INSERT INTO schema_version (version) VALUES (1)")
    migrated = Outbox.open(url, MASTER_KEY)
    with migrated._engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT max(version) FROM schema_version").scalar() == SCHEMA_VERSION
        assert connection.exec_driver_sql("SELECT count(*) FROM batch_attempts").scalar() == 0
        assert connection.exec_driver_sql("SELECT count(*) FROM wallet_links").scalar() == 0
        indexes = {index["name"] for index in inspect(connection).get_indexes("events")}
        assert {"ix_events_batch", "ix_events_customer_address", "ix_events_brand_state"} <= indexes


def test_two_oracle_processes_never_share_a_sequence_number(url: str, policy) -> None:
    instances = [Outbox.open(url, MASTER_KEY), Outbox.open(url, MASTER_KEY)]
    for i, outbox in enumerate(instances):
        receive(outbox, *[helpdesk_event(100 * i + n, customer=f"c{i}-{n}") for n in range(40)])

    def decide_in_steps(outbox: Outbox) -> None:
        for _ in range(10):
            outbox.decide_received(policy, address_for, limit=5)

    threads = [threading.Thread(target=decide_in_steps, args=(o,)) for o in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with instances[0]._engine.connect() as connection:
        seqs = [row[0] for row in connection.exec_driver_sql("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, 81))


def test_an_outbox_from_a_newer_oracle_is_refused(url: str) -> None:
    outbox = Outbox.open(url, MASTER_KEY)
    with outbox._engine.begin() as connection:
        connection.execute(insert(schema_version).values(version=99))
    with pytest.raises(StoreError, match=f"schema version 99; this oracle knows up to {SCHEMA_VERSION}"):
        Outbox.open(url, MASTER_KEY)


def test_an_unknown_state_cannot_be_written(outbox: Outbox) -> None:
    receive(outbox, helpdesk_event(1))
    with pytest.raises(IntegrityError, match="CHECK constraint failed|violates check constraint"):  # SQLite|PostgreSQL
        with outbox._engine.begin() as connection:
            connection.execute(text("UPDATE events SET state = 'paid'"))


def test_two_instances_storing_a_new_customers_first_events_at_once_both_succeed(postgres_url: str) -> None:
    """PostgreSQL, two `serve` instances: the other instance stores the customer's first event,
    and with it the customer's content key, while this one is between reading "no key" and
    inserting its own (the key wrap in between is where the test lets the other commit)."""
    first, other = Outbox.open(postgres_url, MASTER_KEY), Outbox.open(postgres_url, MASTER_KEY)
    raced = []

    class WrapAfterTheOtherInstance:
        def __init__(self, master) -> None:
            self.master = master

        def encrypt(self, *args):
            if not raced:  # the first attempt only
                raced.append(other.receive(helpdesk_event(2, customer="new-customer"), {"comment": "b"}, T0))
            return self.master.encrypt(*args)

        def decrypt(self, *args):
            return self.master.decrypt(*args)

    first.vault._master = WrapAfterTheOtherInstance(first.vault._master)
    assert first.receive(helpdesk_event(1, customer="new-customer"), {"comment": "a"}, received_at=T0) is True
    assert raced == [True]
    assert first.counts_by_state() == {"received": 2}
    assert first.vault.open(helpdesk_event(1, customer="new-customer").id).content == {"comment": "a"}


def test_a_group_is_stored_in_one_transaction_each_event_once(outbox: Outbox) -> None:
    receive(outbox, helpdesk_event(1))  # already stored before the group
    group = [helpdesk_event(1), helpdesk_event(2), helpdesk_event(3), helpdesk_event(2)]
    items = [(e, {"comment": f"content of {e.helpdesk_event_id}"}, T0) for e in group]
    assert outbox.receive_many(items) == [False, True, True, False]
    assert outbox.counts_by_state() == {"received": 3}
    assert outbox.vault.open(group[2].id).content == {"comment": "content of ticket-3"}
    assert outbox.receive_many(items) == [False, False, False, False]
    assert outbox.receive_many([]) == []


def test_a_failing_group_stores_nothing(outbox: Outbox) -> None:
    class Unserialisable:
        pass

    items = [(helpdesk_event(1), {"ok": 1}, T0), (helpdesk_event(2), {"bad": Unserialisable()}, T0)]
    with pytest.raises(TypeError):
        outbox.receive_many(items)
    assert outbox.counts_by_state() == {}


OPEN_AT_ONCE = """
import sys, time
from oracle.store.outbox import Outbox
start = float(sys.argv[2])
while time.time() < start:
    pass
Outbox.open(sys.argv[1], bytes.fromhex(sys.argv[3]))
"""


def test_processes_opening_a_new_outbox_at_the_same_moment_all_start(url: str) -> None:
    # `servicecoin serve` and `servicecoin work` started together on a brand's first day: each
    # creates the schema; none may fail with "database is locked".
    start = time.time() + 1.5
    processes = [
        subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, url, str(start), MASTER_KEY.hex()], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    failures = [p.stderr.read().decode()[-400:] for p in processes if p.wait(timeout=60) != 0]
    assert failures == []
    with Outbox.open(url, MASTER_KEY)._engine.connect() as connection:
        assert connection.execute(select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
