"""What a helpdesk needs to offer to receive proof notes: find the ticket an event came from,
and post a note on it. Each adapter says how its helpdesk answered; the worker decides when to
retry (backoff persisted in the `notes` table), so adapters keep no state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class PostResult:
    outcome: Literal["posted", "retry", "failed"]
    reason: str = ""
    # The helpdesk said when to come back (HTTP 429 Retry-After), in seconds.
    retry_after: float | None = None
    # The refusal concerns every note, not this one (bad credentials): stop posting for a while.
    pause_all: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_retry_seconds: float
    max_retry_seconds: float

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: first, doubled each time, capped."""
        return min(self.first_retry_seconds * 2 ** max(attempts - 1, 0), self.max_retry_seconds)


class NotesAdapter(Protocol):
    # The events.source whose events this adapter answers (e.g. "zendesk").
    source: str
    retry: RetryPolicy

    def ticket_for(self, helpdesk_event_id: str) -> str | None:
        """The ticket an event belongs to, or None when the event has no ticket to note."""

    def post(self, ticket_id: str, body: str) -> PostResult:
        """Adds `body` as a note on the ticket; never raises for the helpdesk's answers."""
