"""What the registry did with each record of a batch: the `outcomes` of its BatchRecorded log.

The registry logs one word per record, in the batch's order (IFeedbackRegistry.BatchRecorded):
status (bits 192-199: 0 rewarded, else 1 + SkipReason) | welcome bonus (bits 96-191) |
reward (bits 0-95). The records themselves are in the transaction's input."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# IFeedbackRegistry.SkipReason, in declaration order.
SKIP_REASONS = (
    "AlreadyRecorded",
    "KindNotRewarded",
    "ZeroCustomer",
    "OccursInFuture",
    "CustomerCapReached",
    "BrandCapReached",
    "LifetimeLimitReached",
    "SupplyLimitReached",
)

_UINT96 = (1 << 96) - 1


@dataclass(frozen=True)
class RecordOutcome:
    """One record's outcome. `skip_reason` is the SkipReason's value, None when rewarded."""

    skip_reason: int | None
    reward: int
    welcome: int

    @property
    def rewarded(self) -> bool:
        return self.skip_reason is None

    @property
    def reason(self) -> str | None:
        """The SkipReason's name, None when rewarded."""
        return None if self.skip_reason is None else SKIP_REASONS[self.skip_reason]


def decode_outcome(word: int) -> RecordOutcome:
    status = (word >> 192) & 0xFF
    if word >> 200 or (status and word & ((1 << 192) - 1)) or status > len(SKIP_REASONS):
        # Not what this registry version writes: a different contract, or a decoding slip.
        raise ValueError(f"not a record outcome: {word:#x}")
    return RecordOutcome(
        skip_reason=status - 1 if status else None,
        reward=word & _UINT96,
        welcome=(word >> 96) & _UINT96,
    )


def decode_outcomes(words: Iterable[int]) -> list[RecordOutcome]:
    return [decode_outcome(int(word)) for word in words]
