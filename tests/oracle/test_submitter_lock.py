"""`servicecoin run` and `work` are an outbox's one submitter: a second is refused at start,
naming the first's pid, and the lock dies with its holder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oracle.store.submitter_lock import SubmitterLockError, hold_submitter_lock
from tests.oracle.test_cli import installation, invoke  # noqa: F401 - the fixture is used by name


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


def test_databases_other_than_an_sqlite_file_are_not_locked() -> None:
    assert hold_submitter_lock("sqlite://") is None
    assert hold_submitter_lock("postgresql+psycopg://user@host/servicecoin") is None


def test_work_refuses_to_start_beside_another_submitter(installation) -> None:  # noqa: F811
    directory, env = installation
    held = hold_submitter_lock(f"sqlite:///{Path(directory) / 'servicecoin.db'}")
    try:
        result = invoke(env, "work")
    finally:
        os.close(held)
    assert result.exit_code == 1
    assert "is submitting from this outbox" in result.output and "run one per outbox and signer key" in result.output
