"""The oracle's exception root. Adapters translate library errors into these."""

from __future__ import annotations


class OracleError(Exception):
    """Anything the oracle reports as a clear, expected failure."""


class PolicyError(OracleError):
    """The reward-policy file is missing or invalid; the message names the field."""
