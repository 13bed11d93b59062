"""Zendesk, Intercom and Freshdesk deliveries, turned into helpdesk events.

Only documented fields are read (docs/brand-integration.md cites where each comes from). A CSAT
rating is rewarded once per ticket or conversation: its event id is derived from the ticket
(`csat:ticket:<id>`), so a customer who changes their rating, or a brand that moves from
Zendesk's legacy ratings to its newer surveys, never pays twice. The rating itself is stored
(encrypted, committed on chain) but never changes the reward.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oracle.events import HelpdeskEvent
from oracle.ingest.signatures import require_secret, verify_freshdesk, verify_intercom, verify_zendesk
from oracle.ingest.sources import Delivery, Parsed, PayloadError
from oracle.kinds import FeedbackKind

ZENDESK_TEMPLATE_MARKER = "servicecoin.zendesk.satisfaction.v1"
FRESHDESK_TEMPLATE_MARKER = "servicecoin.freshdesk.feedback.v1"
# The event type Zendesk's newer CSAT sends to event-subscribed webhooks. This name comes from
# public integrations; the Zendesk reference we could read does not list it yet, so brands set
# `sources.zendesk.csat_event_types` in the config if their Admin Center shows another.
DEFAULT_ZENDESK_CSAT_EVENT_TYPES = ("zen:event-type:ticket.csat_received",)
# Values of {{satisfaction.current_rating}} / the API's score that mean "no rating given".
_NOT_RATED = {"", "offered", "unoffered"}

_Id = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:@+-]+$")


class _Lenient(BaseModel):
    """Helpdesk payloads grow new fields over time: unknown fields are ignored, not refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_time(text: str, field: str) -> int:
    """Unix seconds from ISO 8601 ('2021-03-25T05:09:27Z', also with nanoseconds or no seconds)."""
    cleaned = text.strip().replace("Z", "+00:00")
    if "." in cleaned:  # Python's parser takes at most microseconds
        head, _, tail = cleaned.partition(".")
        fraction = tail[: len(tail) - len(tail.lstrip("0123456789"))]
        cleaned = head + "." + fraction[:6] + tail[len(fraction) :]
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise PayloadError(f"{field}: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{field}: the time has no timezone: {text!r}")
    return int(moment.timestamp())


def csat_event(brand_id: int, source: str, thread: str, customer_id: str, occurred_at: int) -> HelpdeskEvent:
    return HelpdeskEvent(
        brand_id=brand_id,
        source=source,
        helpdesk_event_id=f"csat:{thread}",
        customer_id=customer_id,
        kind=FeedbackKind.CSAT_RATING,
        occurred_at=occurred_at,
    )


# ------------------------------------------------------------------ Zendesk


class ZendeskTriggerBody(_Lenient):
    """The body a brand's legacy-CSAT trigger sends (template in docs/brand-integration.md)."""

    servicecoin: str
    ticket_id: str = _Id
    requester_id: str = _Id
    rating: str = Field(max_length=200)


class ZendeskTicketDetail(_Lenient):
    id: str | int
    requester_id: str | int


class ZendeskEvent(_Lenient):
    """Zendesk's envelope for event-subscribed webhooks (documented top-level keys)."""

    type: str
    id: str
    time: str
    detail: ZendeskTicketDetail


class ZendeskSource:
    name = "zendesk"

    def __init__(
        self, secret: str, replay_window: int, csat_event_types: tuple[str, ...] = DEFAULT_ZENDESK_CSAT_EVENT_TYPES
    ) -> None:
        self._secret = require_secret(self.name, secret)
        self._window = replay_window
        self._csat_types = frozenset(csat_event_types)

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: int) -> None:
        verify_zendesk(headers, body, self._secret, now=now, window=self._window)

    def parse(self, payload: dict[str, Any], delivery: Delivery) -> Parsed:
        if isinstance(payload.get("type"), str) and payload["type"].startswith("zen:event-type:"):
            return self._parse_event(payload, delivery.brand_id)
        if payload.get("servicecoin") == ZENDESK_TEMPLATE_MARKER:
            return self._parse_trigger(payload, delivery)
        raise PayloadError(
            f"not a Zendesk event webhook nor the ServiceCoin trigger body (field 'servicecoin' must be {ZENDESK_TEMPLATE_MARKER!r})"
        )

    def _parse_trigger(self, payload: dict[str, Any], delivery: Delivery) -> Parsed:
        body = ZendeskTriggerBody.model_validate(payload)
        if body.rating.strip().lower() in _NOT_RATED:
            return Parsed(None, {}, ignored=f"ticket {body.ticket_id} has no rating yet")
        # The trigger fires when the rating is given; the (already verified) signature timestamp
        # says when, to the second ({{ticket.updated_at_with_timestamp}} has no seconds).
        stamp = delivery.headers.get("x-zendesk-webhook-signature-timestamp", "")
        occurred_at = parse_time(stamp, "X-Zendesk-Webhook-Signature-Timestamp")
        event = csat_event(delivery.brand_id, self.name, f"ticket:{body.ticket_id}", f"zendesk:{body.requester_id}", occurred_at)
        return Parsed(event, {"rating": body.rating, "ticket_id": body.ticket_id})

    def _parse_event(self, payload: dict[str, Any], brand_id: int) -> Parsed:
        if payload["type"] not in self._csat_types:
            return Parsed(None, {}, ignored=f"event type {payload['type']} is not rewarded")
        envelope = ZendeskEvent.model_validate(payload)
        occurred_at = parse_time(envelope.time, "time")
        ticket, requester = str(envelope.detail.id), str(envelope.detail.requester_id)
        event = csat_event(brand_id, self.name, f"ticket:{ticket}", f"zendesk:{requester}", occurred_at)
        return Parsed(event, {"zendesk_event_id": envelope.id, "event": payload.get("event", {})})


# ------------------------------------------------------------------ Intercom


class IntercomContact(_Lenient):
    id: str = _Id
    external_id: str | None = None


class IntercomRating(_Lenient):
    rating: int | None = None
    remark: str | None = None
    contact: IntercomContact | None = None


class IntercomConversation(_Lenient):
    id: str = _Id
    # Missing or null on a conversation not rated yet: answered `200 ignored`, never 4xx, which
    # Intercom would retry and then count against the webhook.
    conversation_rating: IntercomRating | None = None


class IntercomItem(_Lenient):
    item: IntercomConversation


class IntercomNotification(_Lenient):
    type: str
    id: str
    topic: str
    created_at: int = Field(ge=0, lt=2**40)
    data: IntercomItem


class IntercomSource:
    name = "intercom"
    rating_topic = "conversation.rating.added"

    def __init__(self, secret: str) -> None:
        self._secret = require_secret(self.name, secret)

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: int) -> None:
        # No timestamp to check: a replayed notification is the same conversation's rating,
        # which the outbox already holds (one reward per conversation).
        verify_intercom(headers, body, self._secret)

    def parse(self, payload: dict[str, Any], delivery: Delivery) -> Parsed:
        if payload.get("type") != "notification_event":
            raise PayloadError("type: expected 'notification_event'")
        if payload.get("topic") != self.rating_topic:
            return Parsed(None, {}, ignored=f"topic {payload.get('topic')!r} is not rewarded")
        notification = IntercomNotification.model_validate(payload)
        conversation = notification.data.item
        rating = conversation.conversation_rating
        if rating is None or rating.rating is None:
            return Parsed(None, {}, ignored=f"conversation {conversation.id} has no rating yet")
        contact = rating.contact
        if contact is None:
            raise PayloadError("data.item.conversation_rating.contact: Field required")  # who rated
        # The brand's own user id when Intercom knows it, so one person is one customer across sources.
        customer = contact.external_id or f"intercom:{contact.id}"
        event = csat_event(delivery.brand_id, self.name, f"conversation:{conversation.id}", customer, notification.created_at)
        return Parsed(event, {"rating": rating.rating, "remark": rating.remark, "notification_id": notification.id})


# ------------------------------------------------------------------ Freshdesk


class FreshdeskBody(_Lenient):
    """The body a brand's Freshdesk automation rule sends (template in docs/brand-integration.md).
    Freshdesk has no placeholder for the rating itself: only that feedback arrived."""

    servicecoin: str
    ticket_id: str = _Id
    customer_id: str = Field(min_length=1, max_length=200)


class FreshdeskSource:
    name = "freshdesk"

    def __init__(self, secret: str) -> None:
        self._secret = require_secret(self.name, secret)

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: int) -> None:
        verify_freshdesk(headers, self._secret)

    def parse(self, payload: dict[str, Any], delivery: Delivery) -> Parsed:
        if payload.get("servicecoin") != FRESHDESK_TEMPLATE_MARKER:
            raise PayloadError(f"servicecoin: must be {FRESHDESK_TEMPLATE_MARKER!r} (see the automation rule template)")
        body = FreshdeskBody.model_validate(payload)
        customer = body.customer_id.strip()
        if not customer or customer.startswith("{{"):
            raise PayloadError("customer_id: empty or an unexpanded placeholder; check the rule's template")
        # Freshdesk sends no time of its own: the feedback arrived when its webhook did.
        event = csat_event(
            delivery.brand_id, self.name, f"ticket:{body.ticket_id}", f"freshdesk:{customer}", delivery.received_at
        )
        return Parsed(event, {"ticket_id": body.ticket_id})
