"""The generic webhook schema: what any system that can POST JSON sends to /webhooks/generic.

    POST /webhooks/generic
    X-ServiceCoin-Timestamp: 1795000000
    X-ServiceCoin-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

    {"event_id": "survey-8812", "customer_id": "cust-42", "kind": "survey_response",
     "occurred_at": 1794999990, "flags": [], "content": {"answers": {"q1": "fast"}}}

`content` is stored encrypted and committed on-chain, never sent in clear; `flags` feed the
policy's quality gates (e.g. "agent_marked_valid" for a valid question).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracle.events import HelpdeskEvent
from oracle.kinds import FeedbackKind


class GenericWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    event_id: str = Field(min_length=1, max_length=200)
    customer_id: str = Field(min_length=1, max_length=200)
    kind: str
    occurred_at: int = Field(ge=0, lt=2**40)
    flags: list[str] = Field(default_factory=list, max_length=20)
    content: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        FeedbackKind.from_name(kind)
        return kind

    def to_event(self, brand_id: int, source: str = "generic") -> HelpdeskEvent:
        """`source` is "generic" for webhooks; a backfill may name the helpdesk the rows were
        exported from, so that they dedupe against that helpdesk's live deliveries."""
        return HelpdeskEvent(
            brand_id=brand_id,
            source=source,
            helpdesk_event_id=self.event_id,
            customer_id=self.customer_id,
            kind=FeedbackKind.from_name(self.kind),
            occurred_at=self.occurred_at,
            flags=frozenset(self.flags),
        )
