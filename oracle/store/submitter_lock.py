"""One process submits batches from an outbox: `servicecoin run` or `work`, never two. Two would
race for the signer's nonces and for the same batches (each seeing the other's state changes as
illegal transitions). An flock(2) on a file beside an SQLite outbox, held for the process's
life: the kernel releases it when the holder dies, so a crash never leaves it stale.

PostgreSQL outboxes are not locked here: run one `work` per outbox and signer key by hand
(docs/brand-integration.md §10)."""

from __future__ import annotations

import fcntl
import os

from sqlalchemy.engine import make_url

from oracle.errors import OracleError
from oracle.store.engine import sqlite_file


class SubmitterLockError(OracleError):
    """Another process already submits from this outbox, or its lock file cannot be made."""


def hold_submitter_lock(store_url: str) -> int | None:
    """Takes the submitter lock of the outbox at `store_url` for this process (the returned
    descriptor holds it; keep it open), or raises SubmitterLockError naming the holder's pid.
    None: not an SQLite file, nothing to lock."""
    database = sqlite_file(make_url(store_url))
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
