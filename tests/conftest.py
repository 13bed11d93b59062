"""Shared by every suite: the project on the import path, and a throwaway PostgreSQL server
(tests/pg_server.py) for the tests that run the outbox on PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # lets tests import `scripts.*` and `oracle.*`
    sys.path.insert(0, str(ROOT))

from tests.pg_server import REQUIRED, PostgresServer, PostgresUnavailable  # noqa: E402 - needs the path above


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        if REQUIRED:
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new empty database on the throwaway server, dropped after the test (each takes ~7 MB)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
