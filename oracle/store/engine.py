"""The outbox's database engine: SQLite in WAL mode whose writing transactions take the write
lock at their start (BEGIN IMMEDIATE) and queue first on a lock shared by every process on the
file; reading ones take no lock. The same code runs on PostgreSQL, where
transaction-scoped advisory locks (`serialise`, below) serialise what must be."""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event


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

    _WRITE_LOCKS[engine] = WriterLock(_lock_path(engine))
    return engine


class WriterLock:
    """Writers of one database queue here, and are woken the moment it is free: threads of one
    process on a mutex, processes on an flock(2) of a file beside the database, which the kernel
    hands to the next waiter at once and releases if its holder dies. Without it, processes
    queue on SQLite's own lock, whose busy handler polls with sleeps of up to 100 ms: under load
    (`serve`'s group commits against `work`'s decisions) every acknowledgement waiting behind a
    decision slept up to that long after it ended. A separate file, not the database: SQLite's
    own POSIX locks on the database drop when any descriptor of it in the process closes."""

    def __init__(self, path: str | None) -> None:
        self._mutex = threading.Lock()
        self._path = path
        self._fd: int | None = None
        # Told how long each acquisition waited (seconds): the contention between writers.
        self.on_wait: Callable[[float], None] | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        started = time.perf_counter()
        with self._mutex:
            if self._path is None:
                yield
                return
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                weakref.finalize(self, os.close, self._fd)  # with its engine, not at exit only
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            if self.on_wait is not None:
                self.on_wait(time.perf_counter() - started)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def sqlite_file(url: URL) -> str | None:
    """The file of an SQLite database; None for in-memory SQLite and other databases."""
    database = url.database if url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _lock_path(engine: Engine) -> str | None:
    """The writers' lock file beside an SQLite database file (None: nothing to lock)."""
    database = sqlite_file(engine.url)
    return None if database is None else database + "-writer.lock"


_WRITE_OPTION = "servicecoin_write"
_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, WriterLock]" = weakref.WeakKeyDictionary()


def observe_writer_waits(engine: Engine, observer: Callable[[float], None]) -> None:
    """Tells `observer` how long each write transaction of this process on `engine` waited
    for the writer lock (SQLite files only; other databases have no such lock)."""
    lock = _WRITE_LOCKS.get(engine)
    if lock is not None:
        lock.on_wait = observer


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A writing transaction, begun once this process holds the database's writer lock."""
    lock = _WRITE_LOCKS.get(engine)  # None: an engine not made by create_outbox_engine
    with lock.held() if lock is not None else nullcontext():
        with engine.connect() as connection:
            connection.execution_options(**{_WRITE_OPTION: True})
            with connection.begin():
                yield connection


def chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    """`values` in slices small enough for one IN (...) clause: SQLite binds at most 32766
    parameters per statement."""
    return [values[i : i + size] for i in range(0, len(values), size)]


# Keys of the PostgreSQL advisory locks the outbox takes (the first of the two 32-bit keys;
# the second names the brand, or 0). Any constant works, as long as each purpose has its own.
MIGRATION_LOCK = 0x5C01
DECISION_LOCK = 0x5C02
SUBMITTER_LOCK = 0x5C03
RELAY_LIMIT_LOCK = 0x5C04
OPS_ACCOUNT_LOCK = 0x5C05


def serialise(connection: Connection, purpose: int, key: int | str = 0) -> None:
    """Makes the rest of this writing transaction run alone among those of the same purpose
    and key (a brand id, a customer). On SQLite every writing transaction already does (the
    writer lock above); on PostgreSQL two could read the same rows before either writes, so
    this takes a transaction-scoped advisory lock, released at commit or rollback, even if the
    process dies."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(CAST(%s AS integer), CAST(%s AS integer))", (purpose, lock_key(key))
        )


def lock_key(key: int | str) -> int:
    """The advisory lock's second key, a signed 32-bit integer: a brand id (uint32, as on
    chain) wrapped into that range one to one, or 32 bits of a string's SHA-256."""
    if isinstance(key, str):
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)
    if not 0 <= key < 2**32:
        raise ValueError(f"lock key {key} is not a uint32")
    return key - 2**32 if key >= 2**31 else key
