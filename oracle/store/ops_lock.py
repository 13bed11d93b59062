"""The operations account sends one transaction at a time across every oracle process on an outbox.

`serve` (the relay), `work` (fulfilments, refunds, wallet links) and the operator's CLI commands
all send from the operations account, each choosing its nonce from the node's pending count. Two
processes choosing at once take the same nonce: one transaction displaces the other, whose
sender learns it only after NONCE_TAKEN_GRACE and must start again. Holding this lock from the
nonce's choice to the receipt makes the next sender see the previous transaction, so no nonce is
taken twice. It is found through the outbox, which every process of one oracle shares:
- SQLite: an flock(2) on a file beside the database (all the processes are on its host);
- PostgreSQL: a session advisory lock, keyed by the account, on a connection opened for the
  send and closed after it. If the connection dies meanwhile, the lock goes with it and the
  worst case is the collision this lock prevents, still detected by OpsSender.

Taking it waits at most `wait_seconds`; then OpsLockUnavailable, and nothing was sent. Operations
accounts shared by two outboxes (two brands' oracles on one key) are not coordinated: give each
oracle its own account.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from oracle.errors import OracleError
from oracle.store.engine import OPS_ACCOUNT_LOCK, lock_key, sqlite_file

# How often a process waiting for the SQLite lock file tries again (seconds). Operations
# transactions are rare and each waits for a block, so polling costs nothing that matters.
_POLL_SECONDS = 0.02

ProcessLock = Callable[[float], AbstractContextManager[None]]


class OpsLockUnavailable(OracleError):
    """Another process kept the operations account busy for the whole wait, or the lock could
    not be taken at all: nothing was sent."""


def ops_account_lock(store_url: str, account: str) -> ProcessLock:
    """The cross-process lock of `account`'s sends for the oracle whose outbox is at
    `store_url`: call it with the longest wait (seconds) to get a context manager."""
    url = make_url(store_url)
    account = account.lower()
    if url.get_backend_name() == "postgresql":
        return lambda wait_seconds: _postgres_lock(store_url, account, wait_seconds)
    database = sqlite_file(url)
    if database is None:  # an in-memory outbox: no other process can share it
        return lambda _wait_seconds: nullcontext()
    # The real file: two spellings of one database (a symlink, a relative path) share one lock.
    path = f"{os.path.realpath(database)}-ops-{account}.lock"
    return lambda wait_seconds: _file_lock(path, wait_seconds)


@contextmanager
def _file_lock(path: str, wait_seconds: float) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise OpsLockUnavailable(f"cannot open the operations account's lock file {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OpsLockUnavailable(_busy(wait_seconds)) from None
                time.sleep(_POLL_SECONDS)
        yield  # closing the descriptor below releases the lock
    finally:
        os.close(fd)


@contextmanager
def _postgres_lock(store_url: str, account: str, wait_seconds: float) -> Iterator[None]:
    engine = create_engine(store_url, poolclass=NullPool)
    try:
        try:
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise OpsLockUnavailable(f"cannot take the operations account's lock in the outbox database: {exc.__cause__ or exc}") from None
        with connection:
            try:
                # lock_timeout bounds the wait of pg_advisory_lock like any other lock's.
                connection.exec_driver_sql(f"SET lock_timeout = {max(1, int(wait_seconds * 1000))}")
                connection.exec_driver_sql(
                    "SELECT pg_advisory_lock(CAST(%s AS integer), CAST(%s AS integer))",
                    (OPS_ACCOUNT_LOCK, lock_key(account)),
                )
            except SQLAlchemyError as exc:
                if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available: the timeout
                    raise OpsLockUnavailable(_busy(wait_seconds)) from None
                raise OpsLockUnavailable(f"cannot take the operations account's lock in the outbox database: {exc.__cause__ or exc}") from None
            # Released by closing the connection (its session ends), whatever happens inside.
            yield
    finally:
        engine.dispose()


def _busy(wait_seconds: float) -> str:
    return (f"the operations account stayed busy with another process's transaction for {wait_seconds:.0f} s: "
            "nothing was sent; try again")
