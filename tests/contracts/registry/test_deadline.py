"""A batch's deadline is the last second (inclusive) at which it may be recorded."""

import re

import brownie

from .helpers import BRAND, mined_at, submit_unmined


def test_batch_past_its_deadline_is_expired(batches, registry, alice, chain):
    deadline = chain.time() - 3600
    batch = batches.batch([batches.record(alice, occurred_at=deadline - 60)], deadline=deadline)
    with brownie.reverts(revert_pattern=re.escape(f"BatchExpired: {deadline}, ") + r"\d+"):
        batches.submit(batch)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_batch_mined_exactly_at_its_deadline_is_accepted(batches, registry, alice, chain):
    deadline = chain.time() + 120
    batch = batches.batch([batches.record(alice)], deadline=deadline)
    with mined_at(deadline):
        tx = submit_unmined(registry, batches, batch)
    tx.wait(1)
    assert tx.timestamp == deadline
    assert tx.status == 1
    assert tx.events["BatchRecorded"]["recorded"] == 1
    assert registry.isRecorded(BRAND, batch.records[0].seq)


def test_batch_mined_one_second_after_its_deadline_is_expired(batches, registry, alice, chain):
    deadline = chain.time() + 120
    batch = batches.batch([batches.record(alice)], deadline=deadline)
    with mined_at(deadline + 1):
        tx = submit_unmined(registry, batches, batch)
    tx.wait(1)
    assert tx.timestamp == deadline + 1
    assert tx.status == 0
    assert tx.revert_msg == f"BatchExpired: {deadline}, {deadline + 1}"
    assert not registry.isRecorded(BRAND, batch.records[0].seq)
