"""`servicecoin report`: most active customers, churn risk and the kinds of feedback that come
least, counted from the outbox's events by when they happened."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak
from sqlalchemy import insert

from oracle.kinds import FeedbackKind
from oracle.report import DAY, build_report
from oracle.store.outbox import Outbox
from oracle.store.schema import events
from tests.oracle.test_cli import installation, invoke  # noqa: F401  (the CLI test's fixture)

NOW = 1_800_000_000
COIN = 10**18
SURVEY, REVIEW, QUESTION = FeedbackKind.SURVEY_RESPONSE, FeedbackKind.PRODUCT_REVIEW, FeedbackKind.VALID_QUESTION


@pytest.fixture
def outbox(outbox_url: str) -> Outbox:
    return Outbox.open(outbox_url, keccak(text="master"))  # SQLite and PostgreSQL


class Events:
    """Writes event rows as the pipeline leaves them, each in the state given."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.count = 0

    def add(self, customer: str, kind: FeedbackKind, days_ago: float, state: str = "final",
            reason: str | None = None, reward: int = 5 * COIN, brand: int = 1) -> None:
        self.count += 1
        occurred = int(NOW - days_ago * DAY)
        with self.outbox.engine.begin() as connection:
            connection.execute(insert(events).values(
                event_id=keccak(text=f"event-{self.count}"), brand_id=brand, source="generic",
                helpdesk_event_id=f"h-{self.count}", customer_id=customer, kind=int(kind), occurred_at=occurred,
                day="2027-01-15", flags="[]", content_commitment=bytes(32), received_at=occurred, state=state,
                reason=reason, reward_units=None if state in ("received", "ineligible") else str(reward),
            ))


@pytest.fixture
def history(outbox: Outbox) -> Events:
    e = Events(outbox)
    for days_ago in (1, 2, 3):
        e.add("alice", SURVEY, days_ago)
    e.add("bob", REVIEW, 4, reward=10 * COIN)
    e.add("bob", REVIEW, 5, state="confirmed", reward=10 * COIN)
    e.add("bob", REVIEW, 0.5, state="submitted", reward=10 * COIN)  # on its way: not rewarded yet
    e.add("carol", SURVEY, 6, reason="not rewarded by this transaction: AlreadyRecorded")  # an earlier tx did
    e.add("carol", SURVEY, 7)
    e.add("carol", SURVEY, 8, reason="not rewarded by this transaction: CustomerCapReached")
    e.add("dave", QUESTION, 35)  # active before the window, silent in it: churn risk
    e.add("dave", QUESTION, 40)
    e.add("dave", QUESTION, 45)
    e.add("erin", QUESTION, 50)  # also active before, but she came back (even if declined)
    e.add("erin", QUESTION, 2, state="ineligible", reason="rate limit")
    e.add("frank", SURVEY, 70)  # older than both windows
    e.add("zoe", SURVEY, 1, brand=2)  # another brand's outbox rows are not this brand's
    return e


def test_the_most_active_customers_are_ranked_by_rewarded_events(outbox, history) -> None:
    report = build_report(outbox.engine, 1, NOW, days=30, top=10)
    ranked = [(a.customer_id, a.rewarded, a.base_reward_units) for a in report.most_active]
    # alice 3 x 5; bob 2 x 10 (the submitted one not yet); carol 2 (AlreadyRecorded counts, the
    # capped one does not); ties ordered by the larger sum of base rewards.
    assert ranked == [("alice", 3, 15 * COIN), ("bob", 2, 20 * COIN), ("carol", 2, 10 * COIN)]
    assert report.most_active[0].last_seen == NOW - DAY
    assert [a.customer_id for a in build_report(outbox.engine, 1, NOW, days=30, top=2).most_active] == ["alice", "bob"]


def test_churn_risk_lists_who_took_part_before_and_stopped(outbox, history) -> None:
    churn = build_report(outbox.engine, 1, NOW, days=30).churn_risk
    assert [(c.customer_id, c.rewarded_before) for c in churn] == [("dave", 3)]
    assert churn[0].last_seen == NOW - 35 * DAY
    # A 5-day window: carol's rewarded events (6 and 7 days ago; the capped one at 8 does not
    # count) fall in the window before, and she has nothing since. Bob's event exactly 5 days
    # ago opens the window, so he is active in it.
    short = build_report(outbox.engine, 1, NOW, days=5).churn_risk
    assert [(c.customer_id, c.rewarded_before) for c in short] == [("carol", 2)]


def test_the_kinds_with_least_feedback_come_first_and_unused_kinds_show(outbox, history) -> None:
    kinds = {k.kind: (k.received, k.rewarded, k.declined, k.pending) for k in build_report(outbox.engine, 1, NOW).kinds}
    assert kinds["survey_response"] == (6, 5, 1, 0)  # alice 3, carol 3 (one capped on chain)
    assert kinds["product_review"] == (3, 2, 0, 1)
    assert kinds["valid_question"] == (1, 0, 1, 0)  # erin's, declined by the policy; dave's are older
    assert kinds["referral"] == (0, 0, 0, 0)
    order = [k.kind for k in build_report(outbox.engine, 1, NOW).kinds]
    assert order[:3] == ["community_answer", "csat_rating", "referral"]  # none at all
    assert order[3:] == ["valid_question", "product_review", "survey_response"]


def test_an_empty_outbox_gives_an_empty_report(outbox) -> None:
    report = build_report(outbox.engine, 1, NOW)
    assert report.most_active == [] and report.churn_risk == []
    assert all(k.received == 0 for k in report.kinds) and len(report.kinds) == len(FeedbackKind)


def test_a_window_or_list_below_one_is_refused(outbox) -> None:
    with pytest.raises(ValueError):
        build_report(outbox.engine, 1, NOW, days=0)
    with pytest.raises(ValueError):
        build_report(outbox.engine, 1, NOW, top=0)


def test_the_report_command_prints_tables_or_json(installation) -> None:  # noqa: F811
    directory, env = installation
    export = directory / "export.jsonl"
    rows = [{"event_id": f"q-{n}", "customer_id": "c1", "kind": "valid_question", "occurred_at": 1_790_000_000}
            for n in range(2)]
    export.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert invoke(env, "ingest", str(export)).exit_code == 0
    table = invoke(env, "report", "--days", "3650")
    assert table.exit_code == 0, table.output
    assert "most active customers" in table.output and "none rewarded in this window" in table.output
    assert "valid_question" in table.output
    as_json = json.loads(invoke(env, "report", "--days", "3650", "--json").output)
    questions = next(k for k in as_json["kinds"] if k["kind"] == "valid_question")
    assert questions == {"kind": "valid_question", "received": 2, "rewarded": 0, "declined": 0, "pending": 2}
    assert invoke(env, "report", "--days", "0").exit_code == 2  # click refuses it, naming the option
