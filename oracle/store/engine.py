"""The outbox's database engine: SQLite in WAL mode whose writing transactions take the write
lock at their start (BEGIN IMMEDIATE) and queue on a process-wide lock first; reading ones take
no lock. The same code runs on PostgreSQL, where row locks (SELECT ... FOR UPDATE) serialise
what must be."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event


def create_outbox_engine(url: str) -> Engine:
    """An engine for the outbox; SQLite gets WAL, foreign keys and write-serialising BEGINs."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event below issue BEGIN, rather than pysqlite itself.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # The timeout first: switching a new file to WAL needs a lock another process
            # opening it at the same moment may hold.
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            # A writing transaction takes the write lock at its start: two oracle processes on
            # one file then queue instead of failing half-way with "database is locked". A
            # reading one takes no lock at all (WAL readers never block, nor are blocked).
            write = connection.get_execution_options().get(_WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    _WRITE_LOCKS[engine] = threading.Lock()
    return engine


_WRITE_OPTION = "servicecoin_write"
_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A writing transaction. Inside one process, writers queue on a lock, and are woken the
    moment it is free; across processes, on SQLite's own lock, whose busy handler polls with
    sleeps of up to 100 ms, which under load (the webhook server's group commits against the
    pipeline's decisions) stalls both."""
    lock = _WRITE_LOCKS.get(engine)
    with lock if lock is not None else contextlib.nullcontext():
        with engine.connect() as connection:
            connection.execution_options(**{_WRITE_OPTION: True})
            with connection.begin():
                yield connection


def chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    """`values` in slices small enough for one IN (...) clause: SQLite binds at most 32766
    parameters per statement."""
    return [values[i : i + size] for i in range(0, len(values), size)]
