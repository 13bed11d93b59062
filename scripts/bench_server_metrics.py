"""The webhook server's own view of a load run, from the histograms `servicecoin serve` exports
at /metrics (oracle/metrics.py), scraped before and after the run and subtracted.

It splits an acknowledgement's latency as the load generator measures it into the part the
server's handler spends (of which the group commit it waits for, and of that the wait for
the outbox's write lock while `work` writes) and the rest: queueing in
the server's event loop before the handler runs, the network, and the load generator itself.
Histogram quantiles are bucket bounds ("at most X ms"), as Prometheus would report them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

HISTOGRAMS = (
    "servicecoin_webhook_seconds",
    "servicecoin_store_commit_seconds",
    "servicecoin_store_lock_wait_seconds",
    "servicecoin_store_commit_deliveries",
)


@dataclass(frozen=True)
class Histogram:
    buckets: dict[float, float]  # upper bound -> cumulative count, summed over label sets
    count: float
    total: float

    def minus(self, earlier: "Histogram") -> "Histogram":
        return Histogram(
            {le: n - earlier.buckets.get(le, 0.0) for le, n in self.buckets.items()},
            self.count - earlier.count,
            self.total - earlier.total,
        )

    def quantile_bound(self, q: float) -> float:
        """The smallest bucket bound under which at least a fraction q of the observations fall."""
        if self.count <= 0:
            return math.nan
        for le in sorted(self.buckets):
            if self.buckets[le] >= q * self.count:
                return le
        return math.inf

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count > 0 else math.nan


def scrape(url: str) -> dict[str, Histogram]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found: dict[str, Histogram] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in HISTOGRAMS:
            continue
        buckets: dict[float, float] = {}
        count = total = 0.0
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
            elif sample.name.endswith("_sum"):
                total += sample.value
        found[family.name] = Histogram(buckets, count, total)
    missing = set(HISTOGRAMS) - set(found)
    if missing:
        raise RuntimeError(f"the server's /metrics lacks {sorted(missing)}")
    return found


def server_side(before: dict[str, Histogram], after: dict[str, Histogram]) -> dict[str, float]:
    """What the server measured between two scrapes, in milliseconds (bounds rounded to buckets)."""
    handled = after["servicecoin_webhook_seconds"].minus(before["servicecoin_webhook_seconds"])
    commits = after["servicecoin_store_commit_seconds"].minus(before["servicecoin_store_commit_seconds"])
    waits = after["servicecoin_store_lock_wait_seconds"].minus(before["servicecoin_store_lock_wait_seconds"])
    sizes = after["servicecoin_store_commit_deliveries"].minus(before["servicecoin_store_commit_deliveries"])
    return {
        "handled": int(handled.count),
        "handler_mean_ms": round(handled.mean * 1000, 2),
        "handler_p50_at_most_ms": handled.quantile_bound(0.50) * 1000,
        "handler_p99_at_most_ms": handled.quantile_bound(0.99) * 1000,
        "commits": int(commits.count),
        "commit_mean_ms": round(commits.mean * 1000, 2),
        "commit_p99_at_most_ms": commits.quantile_bound(0.99) * 1000,
        "lock_wait_mean_ms": round(waits.mean * 1000, 2),
        "lock_wait_p99_at_most_ms": waits.quantile_bound(0.99) * 1000,
        "deliveries_per_commit": round(sizes.mean, 2),
    }
