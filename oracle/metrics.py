"""Prometheus metrics of one oracle process, served at /metrics.

Event counts by state and the signer's balance are read when Prometheus scrapes (they are
facts of the outbox and the chain, not of this process's memory); batch outcomes, gas and
submit-to-confirm latency are counted as they happen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from oracle.pipeline import StepReport

log = logging.getLogger("servicecoin.metrics")

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class _LiveState(Collector):
    def __init__(self, counts_by_state: Callable[[], dict[str, int]], signer_balance: Callable[[], int] | None) -> None:
        self._counts = counts_by_state
        self._balance = signer_balance

    def collect(self) -> Iterator[GaugeMetricFamily]:
        events = GaugeMetricFamily("servicecoin_events", "Helpdesk events in the outbox, by state", labels=["state"])
        for state, count in sorted(self._counts().items()):
            events.add_metric([state], count)
        yield events
        if self._balance is not None:
            try:
                balance = self._balance()
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the RPC is down
                log.warning("signer balance unavailable: %s", exc)
                return
            yield GaugeMetricFamily(
                "servicecoin_signer_balance_wei", "Native balance of the submitting account", value=balance
            )


class OracleMetrics:
    def __init__(
        self,
        counts_by_state: Callable[[], dict[str, int]],
        signer_balance: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_LiveState(counts_by_state, signer_balance))
        self.batches = Counter(
            "servicecoin_batches", "Batch outcomes on chain", ["outcome"], registry=self.registry
        )
        self.gas_used = Counter("servicecoin_gas_used", "Gas used by confirmed batches", registry=self.registry)
        self.submit_latency = Histogram(
            "servicecoin_submit_latency_seconds",
            "From first broadcast to confirmation",
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.webhooks = Counter(
            "servicecoin_webhooks", "Webhook deliveries by source and HTTP status", ["source", "status"],
            registry=self.registry,
        )
        self.redemptions = Counter(
            "servicecoin_redemptions",
            "Redemption outcomes: delivered, retried, refused, gave_up (refund after max attempts), "
            "fulfilled, refunded, disputed",
            ["outcome"],
            registry=self.registry,
        )
        # Acknowledgement latency and what it is made of: the server's share of a webhook's
        # answer time, and the group commit it waits for (the outbox's write lock, the writes,
        # the commit's fsync). Buckets from 1 ms, the scale of the 50 ms acknowledgement goal.
        self.webhook_seconds = Histogram(
            "servicecoin_webhook_seconds",
            "Webhook handling in the server, from the body read to the answer (202: the event is durable)",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_commit_seconds = Histogram(
            "servicecoin_store_commit_seconds",
            "One group commit of webhook deliveries: the outbox's write lock, the writes and the commit",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_lock_wait_seconds = Histogram(
            "servicecoin_store_lock_wait_seconds",
            "Time this process's outbox writes waited for the write lock (held by another writer)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_commit_deliveries = Histogram(
            "servicecoin_store_commit_deliveries",
            "Webhook deliveries stored by one group commit",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=self.registry,
        )
        self._clock = clock

    def observe_group_commit(self, seconds: float, deliveries: int) -> None:
        self.store_commit_seconds.observe(seconds)
        self.store_commit_deliveries.observe(deliveries)

    def observe_step(self, report: "StepReport") -> None:
        for event in report.tracked:
            self.batches.labels(event.what).inc()
            if event.what == "confirmed":
                self.gas_used.inc(event.detail.get("gas_used", 0))
                sent_at = event.detail.get("sent_at")
                if sent_at is not None:
                    self.submit_latency.observe(max(0.0, self._clock() - sent_at))
