"""The bench's reading of the server's histograms: two scrapes subtracted, quantiles as bucket
bounds, and the report's verdict on where an acknowledgement's tail is spent."""

from __future__ import annotations

import math

from scripts.bench_report import _server_side_lines
from scripts.bench_server_metrics import Histogram


def test_a_window_is_the_later_scrape_minus_the_earlier() -> None:
    before = Histogram({0.001: 5, 0.01: 10, math.inf: 10}, count=10, total=0.02)
    after = Histogram({0.001: 5, 0.01: 108, math.inf: 110}, count=110, total=1.02)
    window = after.minus(before)
    assert window.buckets == {0.001: 0, 0.01: 98, math.inf: 100}
    assert window.count == 100 and math.isclose(window.mean, 0.01)


def test_a_quantile_is_the_first_bucket_holding_that_share() -> None:
    histogram = Histogram({0.001: 50, 0.005: 98, 0.05: 99, math.inf: 100}, count=100, total=1.0)
    assert histogram.quantile_bound(0.50) == 0.001
    assert histogram.quantile_bound(0.98) == 0.005
    assert histogram.quantile_bound(0.99) == 0.05
    assert histogram.quantile_bound(1.0) == math.inf
    assert math.isnan(Histogram({}, 0, 0).quantile_bound(0.5))


def _run(client_p99: float, handler_p99: float) -> dict:
    return {"ack_p99_ms": client_p99, "server": {"handler_p99_at_most_ms": handler_p99, "commit_p99_at_most_ms": 5.0,
                                                 "commit_mean_ms": 1.2, "lock_wait_mean_ms": 0.3,
                                                 "lock_wait_p99_at_most_ms": 2.0, "deliveries_per_commit": 1.4}}


def test_the_report_places_the_tail_outside_the_handler_only_when_the_figures_say_so() -> None:
    outside = {"ack_p99_ms": 120.0, "open_loop": _run(120.0, 20.0)}
    inside = {"ack_p99_ms": 30.0, "open_loop": _run(30.0, 20.0)}
    assert any("outside the handler" in line for line in _server_side_lines(outside))
    assert not any("outside the handler" in line for line in _server_side_lines(inside))
    assert "| with `work` running | 120.0 ms | ≤ 20 ms | ≤ 5 ms | 1.2 ms | 0.3 ms / ≤ 2 ms | 1.4 |" in _server_side_lines(outside)


def test_the_report_blames_the_write_lock_only_when_waits_fill_the_commits() -> None:
    waiting = _run(60.0, 50.0)
    waiting["server"].update(commit_mean_ms=10.0, lock_wait_mean_ms=7.0)
    assert any("waiting for" in line for line in _server_side_lines({"ack_p99_ms": 60.0, "open_loop": waiting}))
    assert not any("waiting for" in line for line in _server_side_lines({"ack_p99_ms": 60.0, "open_loop": _run(60.0, 50.0)}))


def test_the_report_credits_the_chain_side_only_when_serve_alone_did_better() -> None:
    from scripts.bench_report import _serve_alone_lines

    def lines(alone_p99: float) -> str:
        alone = {"ack_p50_ms": 10.0, "ack_p99_ms": alone_p99}
        return " ".join(_serve_alone_lines({"ack_p99_ms": 200.0, "open_loop_serve_alone": alone}))

    assert "what sharing the two cores" in lines(40.0) and "within the 50 ms goal" in lines(40.0)
    assert "not what made the tail" in lines(250.0) and "above the 50 ms goal" in lines(250.0)
