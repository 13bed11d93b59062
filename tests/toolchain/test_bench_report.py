"""The benchmark report: the committed run's results keep the keys issue #7 fixes, and the report
rendered from them states each goal's verdict and the CPU budget from those figures (so a broken
renderer shows up in `make test`, not only at the end of a `make bench`)."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.bench_report import EVENTS_GOAL, GAS_GOAL, render_report

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"


def committed() -> dict:
    return json.loads(RESULTS.read_text())


def test_results_keep_the_stable_keys() -> None:
    results = committed()
    assert {"push_returning_batch100_per_event", "push_fresh_batch100_per_event", "naive_returning_per_event",
            "naive_batched100_returning_per_event", "by_batch"} <= results["gas"].keys()
    assert {"events", "seconds", "events_per_s", "naive_events_per_s", "ack_p50_ms", "ack_p99_ms"} <= results["throughput"].keys()
    assert results["machine"] and len(results["commit"]) == 40


def test_the_report_states_each_goal_from_the_figures() -> None:
    results = committed()
    report = render_report(results)
    gas, tp = results["gas"]["push_returning_batch100_per_event"], results["throughput"]
    gas_row = next(line for line in report.splitlines() if line.startswith(f"| ≤ {GAS_GOAL:,} gas"))
    assert f"{gas:,}" in gas_row and ("**not met**" in gas_row) == (gas > GAS_GOAL)
    events_row = next(line for line in report.splitlines() if line.startswith(f"| ≥ {EVENTS_GOAL:,} events/s"))
    assert f"{tp['events_per_s']:,}" in events_row and ("**not met**" in events_row) == (tp["events_per_s"] < EVENTS_GOAL)


def test_the_cpu_budget_adds_up_what_each_process_spent() -> None:
    results = committed()
    tp = results["throughput"]
    cpu = tp["cpu_closed_loop"]
    per_event = [round(p["cpu_s"] * 1e6 / tp["events"]) for p in cpu["processes"].values()]
    budget = round(cpu["cpus"] * 1e6 / EVENTS_GOAL)
    report = render_report(results)
    assert f"{budget:,} µs of CPU per event; this run spent {sum(per_event):,} µs per event" in report
