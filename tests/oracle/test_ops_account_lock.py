"""The operations account's cross-process lock (oracle/store/ops_lock.py), on SQLite and on
PostgreSQL: a second process waits for the first's transaction, gives up after its wait with
nothing sent, and gets the lock at once when the holder dies."""

from __future__ import annotations

import subprocess
import sys
import time

from types import SimpleNamespace

import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.chain.ops_sender import OpsBusy, OpsSender, OpsTimeout
from oracle.store.ops_lock import OpsLockUnavailable, ops_account_lock
from tests.oracle.test_ops_sender_lock import SETTINGS, FakeNode

ACCOUNT = "0x" + "ab" * 20
OTHER_ACCOUNT = "0x" + "cd" * 20

# Takes the lock, says so, and keeps it until killed.
_HOLDER = """
import sys, time
from oracle.store.ops_lock import ops_account_lock
with ops_account_lock(sys.argv[1], sys.argv[2])(10):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def holder(outbox_url):
    """Another process holding ACCOUNT's lock on `outbox_url` until the test kills it."""
    process = subprocess.Popen([sys.executable, "-c", _HOLDER, outbox_url, ACCOUNT],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout is not None else ""
    assert line.strip() == "held", process.stderr.read() if process.stderr is not None else ""
    yield process
    process.kill()
    process.wait()


def test_a_second_process_waits_then_gives_up_with_nothing_held(outbox_url, holder) -> None:
    started = time.monotonic()
    with pytest.raises(OpsLockUnavailable, match="stayed busy with another process's transaction for 1 s"):
        with ops_account_lock(outbox_url, ACCOUNT)(1.0):
            pytest.fail("the lock was taken while another process held it")
    assert time.monotonic() - started >= 0.9


def test_the_lock_is_free_as_soon_as_its_holder_dies(outbox_url, holder) -> None:
    holder.kill()
    holder.wait()
    entered = []
    with ops_account_lock(outbox_url, ACCOUNT)(10.0):
        entered.append(True)
    assert entered == [True]


def test_other_accounts_are_not_held_up(outbox_url, holder) -> None:
    entered = []
    with ops_account_lock(outbox_url, OTHER_ACCOUNT)(0.5):
        entered.append(True)
    # One address spelled in another case is the same account.
    with pytest.raises(OpsLockUnavailable):
        with ops_account_lock(outbox_url, ACCOUNT.upper().replace("0X", "0x"))(0.2):
            entered.append(False)
    assert entered == [True]


def test_the_lock_is_taken_again_after_release(outbox_url) -> None:
    lock = ops_account_lock(outbox_url, ACCOUNT)
    for _ in range(3):
        with lock(0.5):
            pass


def test_an_unreachable_database_is_a_clear_error() -> None:
    lock = ops_account_lock("postgresql+psycopg://nobody@127.0.0.1:1/none", ACCOUNT)
    with pytest.raises(OpsLockUnavailable, match="cannot take the operations account's lock"):
        with lock(1.0):
            pass


def test_a_sender_whose_account_stays_busy_raises_ops_busy_and_sends_nothing() -> None:
    node = FakeNode()

    def busy(wait_seconds: float):
        raise OpsLockUnavailable(f"busy for {wait_seconds:.0f} s")

    account = Account.from_key(keccak(text="servicecoin-unit-ops-busy"))
    sender = OpsSender(SimpleNamespace(eth=node), account, SETTINGS, wait_seconds=7,  # type: ignore[arg-type]
                       process_lock=busy)
    with pytest.raises(OpsBusy, match="busy for 7 s") as raised:
        sender.send("0x" + "11" * 20, b"", "a transfer")
    assert isinstance(raised.value, OpsTimeout)  # callers that retry a timeout retry this too
    assert node.nonces_sent == {}


def test_a_sender_queued_behind_another_of_its_process_gives_up_after_its_wait() -> None:
    """In `run` the relay and the loops share one process: the relay's wait bounds its queueing
    behind the loops' sends too (a review finding, 2026-11-24)."""
    import time

    from oracle.chain.ops_sender import _account_lock

    node = FakeNode()
    account = Account.from_key(keccak(text="servicecoin-unit-ops-queued"))
    sender = OpsSender(SimpleNamespace(eth=node), account, SETTINGS, wait_seconds=0.3)  # type: ignore[arg-type]
    lock = _account_lock(account.address)
    with lock:  # another sender of this process is mid-transaction
        started = time.monotonic()
        with pytest.raises(OpsBusy, match="another transaction of this process for 0.3 s: nothing was sent"):
            sender.send("0x" + "11" * 20, b"", "a relayed redemption")
        assert 0.25 < time.monotonic() - started < 5
    assert node.nonces_sent == {}
