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


class SubmitterLockHeld(OracleError):
    """Another process already submits from this outbox."""


def hold_submitter_lock(store_url: str) -> int | None:
    """Takes the submitter lock of the outbox at `store_url` for this process (the returned
    descriptor holds it; keep it open), or raises SubmitterLockHeld naming the holder's pid.
    None: not an SQLite file, nothing to lock."""
    url = make_url(store_url)
    database = url.database if url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = database + "-submitter.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise SubmitterLockHeld(
            f"another `servicecoin run` or `work` (pid {holder}) is submitting from this outbox ({database}): "
            "run one per outbox and signer key"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
