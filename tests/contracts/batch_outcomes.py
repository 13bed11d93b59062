"""A submitted batch's per-record outcomes, as its BatchRecorded log gives them (one per record,
in the batch's order; oracle/chain/outcomes.py decodes them).

The log carries no record field: a test knows the records it submitted and their order, so it
checks the outcome at a record's position (`rewarded`/`skipped` build the expected ones), and
`submitted_batch` reads the records back from the transaction's input, where the registry left
them (signed)."""

from __future__ import annotations

from oracle.chain.outcomes import RecordOutcome, decode_outcomes
from oracle.typed_data import FeedbackBatch, unpack_records


def outcomes(tx) -> list[RecordOutcome]:
    return decode_outcomes(tx.events["BatchRecorded"]["outcomes"])


def rewards(tx) -> list[int]:
    """The rewards of the rewarded records, in the batch's order."""
    return [outcome.reward for outcome in outcomes(tx) if outcome.rewarded]


def skip_reasons(tx) -> list[int]:
    """The SkipReason of each record not rewarded, in the batch's order."""
    return [outcome.skip_reason for outcome in outcomes(tx) if not outcome.rewarded]


def welcomes(tx) -> list[int]:
    """The welcome bonuses the batch paid, in the batch's order."""
    return [outcome.welcome for outcome in outcomes(tx) if outcome.welcome]


def rewarded(reward: int, welcome: int = 0) -> RecordOutcome:
    """The outcome of a record rewarded `reward`, with `welcome` paid alongside (0: none)."""
    return RecordOutcome(skip_reason=None, reward=reward, welcome=welcome)


def skipped(reason: int) -> RecordOutcome:
    """The outcome of a record skipped for SkipReason `reason`: no reward, no welcome."""
    return RecordOutcome(skip_reason=int(reason), reward=0, welcome=0)


def registry_logs(tx, registry) -> list:
    """The raw logs the registry itself emitted in the transaction's receipt."""
    return [log for log in tx.logs if log["address"].lower() == registry.address.lower()]


def submitted_batch(registry, calldata) -> FeedbackBatch:
    """The batch a submitBatch transaction's input (hex or bytes) carries, as oracle.typed_data
    builds it: where a batch's records are, now that no log repeats them."""
    name, (batch, _signatures) = registry.decode_input(calldata)
    assert name.startswith("submitBatch("), f"not a submitBatch call: {name}"
    brand_id, policy_hash, deadline, packed = batch
    return FeedbackBatch(
        brand_id=int(brand_id),
        policy_hash=bytes(policy_hash),
        deadline=int(deadline),
        records=tuple(unpack_records(bytes(packed))),
    )
