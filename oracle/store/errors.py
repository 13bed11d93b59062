"""The outbox's errors."""

from __future__ import annotations

from oracle.errors import OracleError


class StoreError(OracleError):
    """The outbox refused an operation (wrong state, newer schema, ...)."""


class EventIdConflict(StoreError):
    """A delivery reuses the id of a stored event for another customer or kind: not a
    redelivery (which changes nothing) but a different event, which must not be dropped
    silently. The message names the id only; the stored event's customer is another person's
    identifier, for the oracle's log (`stored_customer_id`), never for the sender."""

    def __init__(self, source: str, helpdesk_event_id: str, stored_customer_id: str, stored_kind: str) -> None:
        super().__init__(f"event id {helpdesk_event_id!r} of {source} was stored for another customer or kind: "
                         "give each event its own id")
        self.stored_customer_id = stored_customer_id
        self.stored_kind = stored_kind


class IllegalTransition(StoreError):
    """A state change that the outbox's state machine does not allow."""


def store_error(exc: Exception) -> str:
    """A database error in one line: the driver's own message (SQLAlchemy's adds the statement,
    its parameters and a link)."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__
