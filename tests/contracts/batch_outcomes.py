"""A submitted batch's per-record outcomes, as its BatchRecorded log gives them (one per record,
in the batch's order; oracle/chain/outcomes.py decodes them)."""

from __future__ import annotations

from oracle.chain.outcomes import RecordOutcome, decode_outcomes


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
