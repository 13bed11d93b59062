"""The kinds of customer-service participation that can be rewarded.

The numbers are the `kind` field of an on-chain FeedbackRecord; the registry's public reward
schedule (`baseReward(kind)`) is keyed by them. Never renumber a kind: records already on
chain would change meaning.
"""

from __future__ import annotations

from enum import IntEnum


class FeedbackKind(IntEnum):
    CSAT_RATING = 0
    SURVEY_RESPONSE = 1
    PRODUCT_REVIEW = 2
    VALID_QUESTION = 3
    REFERRAL = 4
    COMMUNITY_ANSWER = 5

    @classmethod
    def from_name(cls, name: str) -> "FeedbackKind":
        try:
            return cls[name.upper()]
        except KeyError:
            known = ", ".join(kind.name.lower() for kind in cls)
            raise ValueError(f"unknown feedback kind {name!r}; known kinds: {known}") from None
