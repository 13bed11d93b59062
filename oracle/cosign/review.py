"""What a co-signer checks before signing a batch. The co-signer sees no helpdesk data, only
the batch; what it can hold the oracle to is the published policy and its own limits, so that
a stolen oracle key alone cannot get batches signed that break them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from oracle.kinds import FeedbackKind
from oracle.policy import LoadedPolicy
from oracle.typed_data import FeedbackBatch


@dataclass(frozen=True)
class CosignLimits:
    max_records: int = 500
    max_records_per_customer: int = 20  # in one batch
    max_deadline_ahead: int = 7200  # seconds: a signature must not stay usable for long
    clock_skew: int = 300  # seconds an event may seem to be in the future


def review_batch(batch: FeedbackBatch, policy: LoadedPolicy, limits: CosignLimits, now: int) -> list[str]:
    """Every reason not to sign; empty when the batch may be signed."""
    problems = []
    if batch.brand_id != policy.policy.brand_id:
        problems.append(f"brand {batch.brand_id} is not this co-signer's brand {policy.policy.brand_id}")
    if batch.policy_hash != policy.hash:
        problems.append(f"policy hash 0x{batch.policy_hash.hex()} is not the published policy 0x{policy.hash.hex()}")
    if not 0 < len(batch.records) <= limits.max_records:
        problems.append(f"{len(batch.records)} records: a batch holds 1 to {limits.max_records}")
    if not now < batch.deadline <= now + limits.max_deadline_ahead:
        problems.append(f"deadline {batch.deadline} is not within the next {limits.max_deadline_ahead} s")
    seqs = [r.seq for r in batch.records]
    if len(set(seqs)) != len(seqs):
        problems.append("a sequence number appears twice")
    for record in batch.records:
        try:
            kind = FeedbackKind(record.kind)
        except ValueError:
            problems.append(f"seq {record.seq}: unknown kind {record.kind}")
            continue
        if policy.policy.rule_for(kind) is None:
            problems.append(f"seq {record.seq}: kind {kind.name.lower()} is not rewarded by the policy")
        if record.occurred_at > now + limits.clock_skew:
            problems.append(f"seq {record.seq}: occurred at {record.occurred_at}, in the future")
    for customer, count in Counter(r.customer.lower() for r in batch.records).items():
        if count > limits.max_records_per_customer:
            problems.append(f"{count} records for {customer} (at most {limits.max_records_per_customer} per batch)")
    return problems
