"""The outbox's errors."""

from __future__ import annotations

from oracle.errors import OracleError


class StoreError(OracleError):
    """The outbox refused an operation (wrong state, newer schema, ...)."""


class EventIdConflict(StoreError):
    """A delivery reuses the id of a stored event for another customer or kind: not a
    redelivery (which changes nothing) but a different event, which must not be dropped
    silently."""


class IllegalTransition(StoreError):
    """A state change that the outbox's state machine does not allow."""
