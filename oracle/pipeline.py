"""The oracle's loop, one step at a time: decide received events, batch eligible ones by size
and age, sign, submit, track. Every step reads and writes only the outbox and the chain, so a
process killed anywhere resumes where the outbox says it stopped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_keys.exceptions import BadSignature, ValidationError

from oracle import failpoints
from oracle.chain.registry import RegistryClient
from oracle.chain.submitter import BatchRejected, FeeCapExceeded, Submitter, TrackEvent
from oracle.cosign.client import CosignError
from oracle.metrics import OracleMetrics
from oracle.runner import StepRunner
from oracle.policy import Decision, LoadedPolicy
from oracle.signer import Signer
from oracle.store.outbox import Outbox
from oracle.typed_data import FeedbackBatch, FeedbackRecord, batch_digest, recover_signer

log = logging.getLogger("servicecoin.pipeline")

# Errors after which resubmitting later can succeed without anyone changing anything.
_TRANSIENT_REVERTS = {"EnforcedPause", "BrandNotActive"}
# Refusals of a batch's signatures: after a quorum raised or a key rotated, the batch was signed
# by a set of keys the registry no longer accepts.
_SIGNATURE_REVERTS = {"QuorumNotReached", "UnknownSigner", "SignersNotAscending"}
# Batches opened per step at most, before signing and submitting.
_MAX_BATCHES_PER_STEP = 20
# Re-sign a batch when less than this remains before its deadline.
_DEADLINE_MARGIN = 120
# Events decided per step, in transactions of at most this many: each holds the outbox's write
# lock, and the webhook server's acknowledgements wait behind it (bench/REPORT.md).
_DECIDE_PER_STEP = 1000
DECIDE_PER_TRANSACTION = 200


@dataclass(frozen=True)
class Batching:
    max_size: int
    max_age: float
    deadline_seconds: int
    # A co-signer refuses a batch with more records of one customer (its own limit, 20 by
    # default); more would block every later batch. Records over it wait for the next batch.
    # None: no limit (no co-signer to refuse).
    max_records_per_customer: int | None = None


@dataclass
class StepReport:
    decided: int = 0
    eligible: int = 0
    batches_opened: int = 0
    signed: int = 0
    submitted: int = 0
    tracked: list[TrackEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Pipeline:
    def __init__(
        self,
        outbox: Outbox,
        policy: LoadedPolicy,
        registry: RegistryClient,
        signers: Sequence[Signer],
        submitter: Submitter,
        address_for: Callable[[str], str],
        batching: Batching,
        metrics: OracleMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.policy = policy
        self.registry = registry
        # The registry wants signatures in ascending signer order.
        self.signers = sorted(signers, key=lambda s: s.address.lower())
        self.submitter = submitter
        self.address_for = address_for
        self.batching = batching
        self.metrics = metrics
        self.clock = clock
        self.brand_id = policy.policy.brand_id
        self._chain_time = 0

    def step(self) -> StepReport:
        report = StepReport()
        # The chain's clock decides deadlines and "occurs in the future", and it need not agree
        # with ours (block times lag; a test chain may run ahead): read it once per step.
        self._chain_time = int(self.registry.w3.eth.get_block("latest")["timestamp"])
        decisions = self._decide()
        report.decided = len(decisions)
        report.eligible = sum(1 for _, d in decisions if d.eligible)
        if report.decided:
            failpoints.hit("after_decide")
        report.batches_opened = self._open_batches()
        if report.batches_opened:
            failpoints.hit("after_batch")
        report.signed = self._sign_open(report)
        if report.signed:
            failpoints.hit("after_sign")
        report.submitted = self._submit_signed(report)
        report.tracked = self.submitter.track()
        if self.metrics is not None:
            self.metrics.observe_step(report)
        for event in report.tracked:
            log.info("batch %s %s", event.batch_id, event.what, extra={"batch_id": event.batch_id, **event.detail})
        return report

    def _decide(self) -> list[tuple[bytes, Decision]]:
        decisions: list[tuple[bytes, Decision]] = []
        while len(decisions) < _DECIDE_PER_STEP:
            group = self.outbox.decide_received(self.policy.policy, self.address_for, limit=DECIDE_PER_TRANSACTION)
            decisions += group
            if len(group) < DECIDE_PER_TRANSACTION:
                break
        return decisions

    # ------------------------------------------------------------ batching

    def _open_batches(self) -> int:
        # Only events that happened by the chain's latest block: any block including the batch
        # is at least that late, so the registry never skips a record as "occurs in the future"
        # (which it would do if the oracle's clock ran ahead of the chain's).
        chain_time = self._chain_time
        opened = 0
        # Bounded, so that signing and submitting follow within the step even behind a long
        # backlog of one customer's records (the runner starts the next step at once).
        while opened < _MAX_BATCHES_PER_STEP:
            count, oldest = self.outbox.eligible_backlog(self.brand_id)
            full = count >= self.batching.max_size
            old = count > 0 and oldest is not None and self.clock() - oldest >= self.batching.max_age
            if not (full or old):
                return opened
            batch = self.outbox.open_batch(
                self.brand_id, self.batching.max_size, now=int(self.clock()), occurred_by=chain_time,
                max_per_customer=self.batching.max_records_per_customer,
            )
            if batch is None:
                return opened
            opened += 1
        return opened

    # ------------------------------------------------------------ signing

    def _sign_open(self, report: StepReport) -> int:
        signed = 0
        for row in self.outbox.batches_in(("open",), self.brand_id):
            deadline = max(int(self.clock()), self._chain_time) + self.batching.deadline_seconds
            batch = self._batch(row.batch_id, deadline=deadline)
            digest = batch_digest(self.signers[0].domain, batch)
            try:
                signatures = [signer.sign(batch) for signer in self.signers]
            except CosignError as exc:
                # The batch stays open and is signed afresh on the next step.
                report.problems.append(str(exc))
                log.warning("%s", exc)
                break
            self.outbox.mark_signed(row.batch_id, batch.policy_hash, batch.deadline, digest, signatures)
            signed += 1
        return signed

    def _batch(self, batch_id: int, deadline: int) -> FeedbackBatch:
        records = tuple(
            FeedbackRecord(r.event_id, r.customer_address, r.seq, r.kind, r.occurred_at, r.content_commitment)
            for r in self.outbox.batch_records(batch_id)
        )
        return FeedbackBatch(self.brand_id, self.policy.hash, deadline, records)

    # ------------------------------------------------------------ submitting

    def _submit_signed(self, report: StepReport) -> int:
        submitted = 0
        for row in self.outbox.batches_in(("signed",), self.brand_id):
            if row.deadline - max(self.clock(), self._chain_time) < _DEADLINE_MARGIN:
                log.info("batch %s: signatures expire soon, signing again", row.batch_id)
                self.outbox.resign(row.batch_id)  # signed again on the next step
                continue
            batch = self._batch(row.batch_id, row.deadline)
            signatures = [bytes.fromhex(s) for s in json.loads(row.signatures)]
            calldata = self.registry.submit_calldata(
                FeedbackBatch(batch.brand_id, row.policy_hash, row.deadline, batch.records), signatures
            )
            try:
                self.submitter.submit(row.batch_id, self.registry.address, calldata, len(batch.records))
            except FeeCapExceeded as exc:
                report.problems.append(str(exc))
                log.warning("batches wait: %s", exc)
                break
            except BatchRejected as exc:
                report.problems.append(str(exc))
                name = exc.revert.name if exc.revert else None
                if name == "BatchExpired":
                    log.warning("%s: signing again with a later deadline", exc)
                    self.outbox.resign(row.batch_id)
                    continue
                if name in _SIGNATURE_REVERTS and self._signed_by_other_keys(row.digest, signatures):
                    log.warning("%s: signed by other keys than the oracle's now (a co-signer added, a key "
                                "rotated): signing again", exc)
                    self.outbox.resign(row.batch_id)
                    continue
                level = logging.WARNING if name in _TRANSIENT_REVERTS else logging.ERROR
                log.log(level, "%s (the batch stays signed and is retried)", exc)
                break  # later batches would fail the same way; retry on the next step
            submitted += 1
        return submitted

    def _signed_by_other_keys(self, digest: bytes, signatures: list[bytes]) -> bool:
        """Whether stored signatures come from another set of keys than the oracle's signers
        now. Only then does signing again help; with the same keys it would be refused the
        same way, so the batch waits for the configuration to be fixed (and the start-up
        check names what is wrong)."""
        try:
            signed_by = {recover_signer(digest, signature).lower() for signature in signatures}
        except (ValueError, ValidationError, BadSignature):  # not a usable signature: signing again replaces it
            return True
        return signed_by != {signer.address.lower() for signer in self.signers}


class PipelineRunner(StepRunner):
    """Runs `Pipeline.step` every `interval` seconds in a thread until stopped (oracle/runner.py:
    a failed step is logged and retried after a growing pause; state lives in the outbox and on
    chain, never only in memory). A step that moved events forward is followed at once by the
    next: under load the backlog is worked off without a poll interval between slices."""

    def __init__(self, pipeline: Pipeline, interval: float) -> None:
        super().__init__(pipeline.step, interval, "pipeline", busy=made_progress)
        self.pipeline = pipeline


def made_progress(report: object) -> bool:
    """Whether a step decided, batched, signed or submitted anything: then more may be waiting.
    Tracking alone is not progress (confirmations come with blocks, at the poll interval)."""
    return isinstance(report, StepReport) and bool(
        report.decided or report.batches_opened or report.signed or report.submitted
    )
