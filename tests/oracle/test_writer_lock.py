"""The outbox's cross-process writer lock (oracle/store/engine.py): a writing transaction in one
process holds the lock file beside the database, another process cannot take it meanwhile, and
a holder that dies (SIGKILL) leaves it free; a discarded engine closes its descriptor."""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from oracle.store.engine import create_outbox_engine, observe_writer_waits, write_transaction


def _hold_write_transaction(url: str, held, release) -> None:  # type: ignore[no-untyped-def]
    engine = create_outbox_engine(url)
    with write_transaction(engine) as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        held.set()
        release.wait(30)


def _lock_is_free(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock taken here
    return True


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "outbox.db"
    return f"sqlite:///{path}", Path(str(path) + "-writer.lock")


def _start_holder(url: str) -> tuple[multiprocessing.Process, object, object]:
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    process = context.Process(target=_hold_write_transaction, args=(url, held, release))
    process.start()
    assert held.wait(60), "the holder never began its transaction"
    return process, held, release


def test_another_process_cannot_take_the_lock_while_a_write_is_open(database: tuple[str, Path]) -> None:
    url, lock_file = database
    process, _held, release = _start_holder(url)
    try:
        assert not _lock_is_free(lock_file)
    finally:
        release.set()  # type: ignore[attr-defined]
        process.join(30)
    assert process.exitcode == 0
    assert _lock_is_free(lock_file)
    with write_transaction(create_outbox_engine(url)) as connection:  # and the write was committed
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_a_killed_holder_leaves_the_lock_free(database: tuple[str, Path]) -> None:
    url, lock_file = database
    process, _held, _release = _start_holder(url)
    os.kill(process.pid, signal.SIGKILL)
    process.join(30)
    assert _lock_is_free(lock_file)
    with write_transaction(create_outbox_engine(url)) as connection:  # nothing was committed
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_in_memory_databases_write_without_a_lock_file() -> None:
    engine = create_outbox_engine("sqlite://")
    with write_transaction(engine) as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_a_discarded_engine_closes_its_lock_file(database: tuple[str, Path]) -> None:
    url, lock_file = database

    def open_lock_files() -> int:
        """This process's descriptors open on the lock file (others, such as an earlier test's
        sockets closing meanwhile, do not count)."""
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += os.readlink(f"/proc/self/fd/{fd}") == str(lock_file)
            except OSError:  # closed since it was listed
                pass
        return count

    gc.collect()
    before = open_lock_files()
    for _ in range(20):
        engine = create_outbox_engine(url)
        with write_transaction(engine) as connection:
            connection.execute(text("SELECT 1"))
        assert open_lock_files() >= 1  # held while the engine lives
        engine.dispose()
        del engine, connection
    gc.collect()
    assert open_lock_files() == before


def test_a_write_waiting_behind_another_process_reports_how_long_it_waited(database: tuple[str, Path]) -> None:
    url, _lock_file = database
    engine = create_outbox_engine(url)
    waits: list[float] = []
    observe_writer_waits(engine, waits.append)
    with write_transaction(engine):
        pass  # uncontended
    process, _held, release = _start_holder(url)
    threading.Timer(0.3, release.set).start()  # the other process commits 0.3 s from now
    try:
        with write_transaction(engine) as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        release.set()
        process.join(30)
    assert len(waits) == 2
    assert waits[0] < 0.1  # nobody else was writing
    assert 0.25 <= waits[1] < 10  # queued until the holder's commit, not polled with sleeps
