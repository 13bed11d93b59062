"""A webhook source: how its deliveries are authenticated and turned into helpdesk events.

Each helpdesk gets one route, /webhooks/<name>. The server does the rest the same way for all:
size limit, strict JSON, durable storage before answering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from oracle.events import HelpdeskEvent
from oracle.ingest.generic import GenericWebhook
from oracle.ingest.signatures import require_secret, verify_generic


@dataclass(frozen=True)
class Delivery:
    """What the server knows of a delivery besides its JSON."""

    brand_id: int
    headers: Mapping[str, str]
    received_at: int


@dataclass(frozen=True)
class Parsed:
    """What a delivery means: an event to store, or a reason it carries nothing to reward
    (answered 200 so the helpdesk does not retry it, and stored nowhere)."""

    event: HelpdeskEvent | None
    content: dict[str, Any]
    ignored: str | None = None


class Source(Protocol):
    name: str

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: int) -> None:
        """Raises SignatureError when the delivery is not genuine (or not fresh)."""

    def parse(self, payload: dict[str, Any], delivery: Delivery) -> Parsed:
        """Raises pydantic's ValidationError, or PayloadError, when the JSON is not a valid event."""


class PayloadError(ValueError):
    """A delivery whose JSON is well-formed but means nothing this source understands."""


class GenericSource:
    name = "generic"

    def __init__(self, secret: str, replay_window: int) -> None:
        self._secret = require_secret(self.name, secret)
        self._window = replay_window

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: int) -> None:
        verify_generic(headers, body, self._secret, now=now, window=self._window)

    def parse(self, payload: dict[str, Any], delivery: Delivery) -> Parsed:
        webhook = GenericWebhook.model_validate(payload)
        return Parsed(webhook.to_event(delivery.brand_id), webhook.content)
