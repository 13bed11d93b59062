"""Fixtures for the oracle's unit tests: the outbox's URL on each database it supports (the
PostgreSQL server is tests/conftest.py's)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The outbox's URL, once on each database it supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    return request.getfixturevalue("postgres_url")
