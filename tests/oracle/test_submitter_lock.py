"""`servicecoin run` and `work` are an outbox's one submitter: a second is refused at start,
naming the first's pid, and the lock dies with its holder."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oracle.store.submitter_lock import SubmitterLockError, hold_submitter_lock
from tests.oracle.test_cli import installation, invoke  # noqa: F401 - the fixture is used by name
from tests.pg_server import end_submitter_lock_connections


def test_a_second_holder_is_refused_with_the_first_pid(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    first = hold_submitter_lock(url)
    assert first is not None
    with pytest.raises(SubmitterLockError, match=rf"pid {os.getpid()}\) is submitting from this outbox"):
        hold_submitter_lock(url)
    os.close(first)  # the holder goes away: the next one may start
    again = hold_submitter_lock(url)
    assert again is not None
    os.close(again)


def test_the_lock_dies_with_a_killed_holder(tmp_path: Path) -> None:
    database = tmp_path / "outbox.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from oracle.store.submitter_lock import hold_submitter_lock; "
         f"hold_submitter_lock('sqlite:///{database}'); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    url = f"sqlite:///{database}"
    with pytest.raises(SubmitterLockError, match=f"pid {holder.pid}"):
        hold_submitter_lock(url)
    holder.kill()
    holder.wait()
    fd = hold_submitter_lock(url)
    assert fd is not None
    os.close(fd)


def test_two_spellings_of_one_database_share_the_lock(tmp_path: Path) -> None:
    (tmp_path / "outbox.db").touch()
    (tmp_path / "link.db").symlink_to(tmp_path / "outbox.db")
    first = hold_submitter_lock(f"sqlite:///{tmp_path / 'outbox.db'}")
    try:
        with pytest.raises(SubmitterLockError):
            hold_submitter_lock(f"sqlite:///{tmp_path / 'link.db'}")
    finally:
        os.close(first)


def test_a_lock_that_cannot_be_created_says_so(tmp_path: Path) -> None:
    with pytest.raises(SubmitterLockError, match="cannot create the submitter lock .*No such file or directory"):
        hold_submitter_lock(f"sqlite:///{tmp_path / 'missing-dir' / 'outbox.db'}")


def test_an_in_memory_outbox_is_not_locked() -> None:
    assert hold_submitter_lock("sqlite://") is None  # no other process can open it


def test_on_postgresql_a_second_holder_is_refused_naming_the_first(postgres_url: str) -> None:
    first = hold_submitter_lock(postgres_url)
    try:
        with pytest.raises(SubmitterLockError, match=rf"submitter pid {os.getpid()} on .*\) is submitting from this outbox"):
            hold_submitter_lock(postgres_url)
    finally:
        first.close()  # the holder goes away: the next one may start
    hold_submitter_lock(postgres_url).close()


def test_on_postgresql_the_lock_dies_with_a_killed_holder(postgres_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from oracle.store.submitter_lock import hold_submitter_lock; "
         "lock = hold_submitter_lock(sys.argv[1]); print('held', flush=True); time.sleep(60)", postgres_url],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(SubmitterLockError, match=f"pid {holder.pid} "):
        hold_submitter_lock(postgres_url)
    holder.kill()  # SIGKILL: no clean-up runs; the server ends the session with the socket
    holder.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            hold_submitter_lock(postgres_url).close()
            break
        except SubmitterLockError:
            assert time.monotonic() < deadline, "the lock outlived its killed holder"
            time.sleep(0.1)


def test_on_postgresql_a_lost_lock_connection_is_noticed(postgres_url: str) -> None:
    lock = hold_submitter_lock(postgres_url)
    lost: list[str] = []
    noticed = threading.Event()
    lock.watch(lambda message: (lost.append(message), noticed.set()), interval=0.1)
    assert not noticed.wait(0.5)  # held: nothing to report
    end_submitter_lock_connections(postgres_url)
    assert noticed.wait(10)
    assert "the submitter lock in the outbox database was lost" in lost[0]
    hold_submitter_lock(postgres_url).close()  # indeed free: another `work` could start


def test_an_unreachable_postgresql_outbox_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SubmitterLockError, match="cannot take the submitter lock in the outbox database"):
        hold_submitter_lock(f"postgresql+psycopg://postgres@/servicecoin?host={tmp_path}")  # no server there


def test_work_refuses_to_start_beside_another_submitter(installation) -> None:  # noqa: F811
    directory, env = installation
    held = hold_submitter_lock(f"sqlite:///{Path(directory) / 'servicecoin.db'}")
    try:
        result = invoke(env, "work")
    finally:
        os.close(held)
    assert result.exit_code == 1
    assert "is submitting from this outbox" in result.output and "run one per outbox and signer key" in result.output
