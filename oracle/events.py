"""A helpdesk event as the oracle handles it, and its deterministic on-chain identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from eth_utils import keccak

from oracle.abi_encoding import abi_encode
from oracle.kinds import FeedbackKind


def event_id(brand_id: int, source: str, helpdesk_event_id: str) -> bytes:
    """keccak256(abi.encode(uint32 brand, string source, string helpdesk event id)): the same
    helpdesk event always maps to the same id, however often it is delivered or retried.
    abi.encode (not packed) so that ("ab", "c") and ("a", "bc") cannot collide."""
    return keccak(abi_encode(("uint32", "string", "string"), [brand_id, source, helpdesk_event_id]))


@dataclass(frozen=True)
class HelpdeskEvent:
    """One delivery from a helpdesk, normalised by its adapter (no personal data beyond the
    helpdesk's customer id, which never goes on-chain)."""

    brand_id: int
    source: str  # "zendesk", "freshdesk", "intercom", "generic", "backfill"
    helpdesk_event_id: str
    customer_id: str
    kind: FeedbackKind
    occurred_at: int  # unix seconds
    flags: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def id(self) -> bytes:
        # Cached: receiving one delivery reads it half a dozen times (dedupe, sealing, the row,
        # the answer), and each computation is an ABI encoding and a keccak.
        return event_id(self.brand_id, self.source, self.helpdesk_event_id)
