"""One process submits batches from an outbox: `servicecoin run` or `work`, never two. Two would
race for the signer's nonces and for the same batches (each seeing the other's state changes as
illegal transitions). The lock is held for the process's life and dies with it, so a crash never
leaves it stale:
- SQLite: an flock(2) on a file beside the database; the kernel releases it with the process.
- PostgreSQL: a session advisory lock on a connection of its own; the server releases it when
  that connection ends, the process's exit or death included. The connection names the
  holder's pid and host (application_name), which the refusal quotes. A lost connection loses
  the lock, so the holder watches it and stops (PostgresSubmitterLock.watch).
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from oracle.errors import OracleError
from oracle.store.engine import SUBMITTER_LOCK, sqlite_file


class SubmitterLockError(OracleError):
    """Another process already submits from this outbox, or its lock file cannot be made."""


def hold_submitter_lock(store_url: str) -> int | PostgresSubmitterLock | None:
    """Takes the submitter lock of the outbox at `store_url` for this process, or raises
    SubmitterLockError naming the holder. What is returned holds the lock: keep it open (a
    descriptor for SQLite; for PostgreSQL, a lock to `watch`). None: an in-memory SQLite outbox,
    which no other process can open."""
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":
        return _hold_on_postgresql(store_url)
    database = sqlite_file(url)
    if database is None:
        return None
    # The real file: two spellings of one database (a symlink, a relative path) share one lock.
    database = os.path.realpath(database)
    path = database + "-submitter.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SubmitterLockError(f"cannot create the submitter lock {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise SubmitterLockError(
            f"another `servicecoin run` or `work` (pid {holder}) is submitting from this outbox ({database}): "
            "run one per outbox and signer key"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


# How often `run` and `work` check that their PostgreSQL lock is still held (seconds).
WATCH_SECONDS = 5.0
# pg_locks' row of a granted submitter lock (pg_try_advisory_lock(int, int) sets objsubid 2).
_LOCK_ROW = "locktype = 'advisory' AND classid = %s AND objid = 0 AND objsubid = 2 AND granted"


class PostgresSubmitterLock:
    """The session advisory lock, on a connection of its own kept for the process's life.

    The server drops the lock with the session: at the process's exit, but also if the
    connection is lost (a server restart, a failover, an administrator's pg_terminate_backend).
    Then another `work` may start, so `watch` stops this one. Keepalives and TCP user timeouts
    on both ends bound how long a vanished peer keeps the session: about a minute, not TCP's
    defaults (two hours idle, some fifteen minutes sending)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def held(self) -> bool:
        try:
            return bool(self.connection.exec_driver_sql(
                f"SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND {_LOCK_ROW}", (SUBMITTER_LOCK,),
            ).scalar())
        except Exception:  # noqa: BLE001 - any failure to confirm it counts as lost: stopping is the safe side
            return False

    def watch(self, on_lost: Callable[[str], None], interval: float = WATCH_SECONDS) -> threading.Thread:
        """Checks the lock every `interval` seconds in a daemon thread; calls `on_lost` once if
        it is gone, and ends."""

        def check() -> None:
            while self.held():
                time.sleep(interval)
            on_lost("the submitter lock in the outbox database was lost (the connection holding it ended): "
                    "stopping, since another `run` or `work` may now submit")

        thread = threading.Thread(target=check, name="submitter-lock", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.connection.close()


# libpq's client side: keepalives for an idle connection, and a bound on unacknowledged data
# for one sending the watch's query (else a vanished server holds it for TCP's ~15 minutes).
_CLIENT_SETTINGS = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
                    "tcp_user_timeout": 60_000}
# The server's side, about this client, by the first server version that has each setting;
# no idle timeout on a connection that only holds a lock.
_SESSION_SETTINGS = ((90300, "SET tcp_keepalives_idle = 30"), (90300, "SET tcp_keepalives_interval = 10"),
                     (90300, "SET tcp_keepalives_count = 3"), (120000, "SET tcp_user_timeout = 60000"),
                     (140000, "SET idle_session_timeout = 0"))


def _hold_on_postgresql(store_url: str) -> PostgresSubmitterLock:
    holder = f"servicecoin submitter pid {os.getpid()} on {socket.gethostname()}"
    engine = create_engine(store_url, poolclass=NullPool,
                           connect_args={"application_name": holder[:63], **_CLIENT_SETTINGS})
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        version = connection.exec_driver_sql("SELECT current_setting('server_version_num')::int").scalar()
        for since, setting in _SESSION_SETTINGS:
            if version >= since:
                connection.exec_driver_sql(setting)
        taken = connection.exec_driver_sql("SELECT pg_try_advisory_lock(CAST(%s AS integer), 0)", (SUBMITTER_LOCK,)).scalar()
        if taken:
            return PostgresSubmitterLock(connection)
        other = connection.exec_driver_sql(
            f"SELECT application_name FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE {_LOCK_ROW} "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (SUBMITTER_LOCK,),
        ).scalar()
        connection.close()
    except SQLAlchemyError as exc:
        raise SubmitterLockError(f"cannot take the submitter lock in the outbox database: {exc.__cause__ or exc}") from None
    raise SubmitterLockError(
        f"another `servicecoin run` or `work` ({other or 'unknown'}) is submitting from this outbox "
        f"({make_url(store_url).render_as_string(hide_password=True)}): run one per outbox and signer key"
    )
