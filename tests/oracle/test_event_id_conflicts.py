"""A different event under a stored event's id is refused (EventIdConflict), never stored over
the first nor dropped in silence: by one delivery, in a group commit, and in a backfill."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from oracle.ingest.backfill import backfill
from oracle.kinds import FeedbackKind
from oracle.store.outbox import EventIdConflict, Outbox
from tests.oracle.test_outbox import T0, helpdesk_event, outbox, receive, url  # noqa: F401 - fixtures by name


def test_one_delivery_for_another_customer_raises_and_changes_nothing(outbox: Outbox) -> None:  # noqa: F811
    first = helpdesk_event(1, customer="alice")
    receive(outbox, first)
    with pytest.raises(EventIdConflict, match="ticket-1' of zendesk was stored for another customer or kind"):
        outbox.receive(helpdesk_event(1, customer="bob"), {}, received_at=T0)
    with pytest.raises(EventIdConflict):
        outbox.receive(helpdesk_event(1, customer="alice", kind=FeedbackKind.REFERRAL), {}, received_at=T0)
    assert outbox.event_row(first.id).customer_id == "alice"
    assert outbox.counts_by_state() == {"received": 1}


def test_a_redelivery_with_another_time_is_the_same_event(outbox: Outbox) -> None:  # noqa: F811
    first = helpdesk_event(1)
    receive(outbox, first)
    assert outbox.receive(dataclasses.replace(first, occurred_at=first.occurred_at + 600), {}, received_at=T0) is False


def test_a_group_answers_each_delivery_for_itself(outbox: Outbox) -> None:  # noqa: F811
    receive(outbox, helpdesk_event(1, customer="alice"))
    group = [
        helpdesk_event(1, customer="mallory"),  # conflicts with the stored event
        helpdesk_event(2, customer="carol"),
        helpdesk_event(2, customer="dave"),  # conflicts with the new one earlier in the group
        helpdesk_event(2, customer="carol"),  # a redelivery inside the group
        helpdesk_event(3, customer="erin"),
    ]
    results = outbox.receive_many([(e, {}, T0) for e in group])
    assert [type(r).__name__ if isinstance(r, Exception) else r for r in results] == [
        "EventIdConflict", True, "EventIdConflict", False, True
    ]
    assert (results[2].stored_customer_id, results[2].stored_kind) == ("carol", "csat_rating")
    assert "carol" not in str(results[2])  # the message is for the sender: no other customer's id
    assert [outbox.event_row(helpdesk_event(n).id).customer_id for n in (1, 2, 3)] == ["alice", "carol", "erin"]


def test_a_backfill_rejects_the_conflicting_row_and_keeps_the_rest(outbox: Outbox, tmp_path: Path) -> None:  # noqa: F811
    rows = [
        {"event_id": "a", "customer_id": "c1", "kind": "survey_response", "occurred_at": T0 - 60},
        {"event_id": "a", "customer_id": "c2", "kind": "survey_response", "occurred_at": T0 - 60},
        {"event_id": "b", "customer_id": "c3", "kind": "referral", "occurred_at": T0 - 60},
    ]
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = backfill(outbox, export, brand_id=1, source="generic", now=T0)
    assert (summary.accepted, summary.duplicate) == (2, 0)
    assert len(summary.rejected) == 1
    line, reason = summary.rejected[0]
    assert line == 2 and reason == "event id 'a' of generic was stored for another customer or kind: give each event its own id"
