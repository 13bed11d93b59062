"""Gas figures equal the committed snapshot, snapshots/gas.json.

The measuring code is scripts/gas_snapshot.py's, run on a deployment of its own (fixed
addresses, fixed inputs), so the figures are exact: a change of even one gas fails here. If
the change is intended, refresh the snapshot with `make gas` and commit it with the change.
Ganache gives the same figures as Anvil (checked), so this runs on both.
"""

from __future__ import annotations

import json

import pytest

from scripts.gas_snapshot import SNAPSHOT_PATH, GasBench

# Gas figures, not behaviour: batches of 100 records traced opcode by opcode would dominate
# `make audit`'s coverage run, and the branches they run are covered by the behaviour tests.
pytestmark = pytest.mark.skip_coverage

SIZES = (1, 10, 100)


def refresh_hint(what: str, measured: dict, expected: dict) -> str:
    """Names each figure that moved, as (measured, snapshot), and how to refresh the snapshot."""
    moved = {}
    for key in sorted(set(measured) | set(expected)):
        now, then = measured.get(key), expected.get(key)
        if isinstance(now, dict) and isinstance(then, dict):
            now = {k: v for k, v in now.items() if then.get(k) != v}
            then = {k: v for k, v in then.items() if k in now}
        if now != then:
            moved[key] = (now, then)
    return (
        f"{what} gas differs from snapshots/{SNAPSHOT_PATH.name} (measured, snapshot): {moved}. "
        "If the change is intended, run `make gas` to refresh the snapshot and commit it."
    )


@pytest.fixture(scope="module")
def snapshot():
    return json.loads(SNAPSHOT_PATH.read_text())


@pytest.fixture(scope="module")
def bench(accounts):
    return GasBench.deploy(accounts[0])


def snapshot_batches(snapshot, case):
    return {str(size): snapshot["submit_batch"][case][str(size)] for size in SIZES}


def test_batch_gas_for_fresh_customers_matches_snapshot(bench, snapshot):
    measured = bench.measure_batches("fresh", SIZES)
    expected = snapshot_batches(snapshot, "fresh")
    assert measured == expected, refresh_hint("submitBatch (fresh customers)", measured, expected)


def test_batch_gas_for_returning_customers_matches_snapshot(bench, snapshot):
    measured = bench.measure_batches("returning_same_period", SIZES)
    expected = snapshot_batches(snapshot, "returning_same_period")
    assert measured == expected, refresh_hint("submitBatch (returning customers)", measured, expected)


def test_operation_gas_matches_snapshot(bench, snapshot):
    measured = bench.measure_operations()
    expected = snapshot["operations"]
    assert measured == expected, refresh_hint("operation", measured, expected)
