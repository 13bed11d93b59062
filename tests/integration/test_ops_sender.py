"""The operations account's sender against Anvil: a nonce taken by another process's
transaction of the same account (the CLI beside `servicecoin run`) ends the wait at once with
OpsNonceTaken, instead of waiting for a receipt that can never come; a call sent again after
a timeout waits for the transaction still pending instead of paying for a copy; and two oracle
processes sending from one account queue on the outbox's lock instead of colliding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.chain.ops_sender import OpsNonceTaken, OpsSender, OpsTimeout
from oracle.chain.submitter import GWEI, SubmitSettings
from scripts.local_oracle import PASSWORD, write_oracle_files

KEY = keccak(text="servicecoin-test-ops-sender")
SETTINGS = SubmitSettings(max_fee=100 * GWEI, priority_fee=GWEI, replace_after=600, confirmations=1, finality_depth=2)


def funded_sender(web3, accounts, key: bytes, wait_seconds: float) -> OpsSender:
    account = Account.from_key(key)
    accounts[0].transfer(account.address, "1 ether")
    return OpsSender(web3, account, SETTINGS, poll_seconds=0.05, wait_seconds=wait_seconds)


def sending_thread(sender: OpsSender, to: str, outcome: dict[str, object]) -> threading.Thread:
    """Sends a transfer of nothing to `to` in a thread; its receipt or error lands in `outcome`."""

    def send() -> None:
        try:
            outcome["receipt"] = sender.send(to, b"", "a transfer of nothing")
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    return threading.Thread(target=send)


def test_a_nonce_taken_by_another_process_ends_the_wait(web3, accounts, chain) -> None:
    sender = funded_sender(web3, accounts, KEY, wait_seconds=120)
    account = sender.account
    nonce = web3.eth.get_transaction_count(account.address)
    outcome: dict[str, object] = {}

    web3.provider.make_request("evm_setAutomine", [False])
    try:
        thread = sending_thread(sender, accounts[1].address, outcome)
        thread.start()
        deadline = time.monotonic() + 10
        while web3.eth.get_transaction_count(account.address, "pending") == nonce:
            assert time.monotonic() < deadline, "the sender did not broadcast"
            time.sleep(0.05)
        # "Another process" sends its own transaction at the same nonce, priced to win.
        base = web3.eth.get_block("latest")["baseFeePerGas"]
        rival = account.sign_transaction({
            "type": 2, "chainId": web3.eth.chain_id, "nonce": nonce, "to": accounts[2].address, "value": 1,
            "gas": 21_000, "maxFeePerGas": 10 * base + 50 * GWEI, "maxPriorityFeePerGas": 50 * GWEI,
        })
        web3.eth.send_raw_transaction(rival.raw_transaction)
        chain.mine()
        thread.join(timeout=30)
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    assert not thread.is_alive(), "still waiting for a receipt that cannot come"
    assert isinstance(outcome.get("error"), OpsNonceTaken), outcome
    assert web3.eth.get_transaction_receipt(rival.hash)["status"] == 1


def test_a_retry_after_a_timeout_waits_for_the_pending_transaction_instead_of_sending_a_copy(
    web3, accounts, chain
) -> None:
    sender = funded_sender(web3, accounts, keccak(text="servicecoin-test-ops-sender-resume"), wait_seconds=3)
    account = sender.account
    nonce = web3.eth.get_transaction_count(account.address)
    outcome: dict[str, object] = {}

    web3.provider.make_request("evm_setAutomine", [False])
    try:
        with pytest.raises(OpsTimeout):  # nothing is mined: the caller would answer 503
            sender.send(accounts[1].address, b"", "a transfer of nothing")
        first = web3.eth.get_transaction_count(account.address, "pending")
        assert first == nonce + 1
        thread = sending_thread(sender, accounts[1].address, outcome)  # the client sends the same call again
        thread.start()
        time.sleep(0.5)
        assert web3.eth.get_transaction_count(account.address, "pending") == nonce + 1, "the retry sent a copy"
        chain.mine()
        thread.join(timeout=30)
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    assert not thread.is_alive()
    receipt = outcome.get("receipt")
    assert receipt is not None, outcome
    assert receipt["status"] == 1
    assert web3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce
    assert web3.eth.get_transaction_count(account.address, "latest") == nonce + 1
    assert web3.eth.get_transaction_count(account.address, "pending") == nonce + 1


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_processes_sending_from_one_operations_account_never_take_the_same_nonce(
    store, request, tmp_path, web3, accounts
) -> None:
    """`serve`'s relay and `work` send from one operations account in two processes. Each picks
    its nonce from the node's pending count, so without the outbox's account lock two picking at
    once collide: one transaction displaces the other, whose sender fails after a 15 s wait."""
    key = keccak(text=f"servicecoin-test-ops-race-{store}")
    operations = Account.from_key(key)
    accounts[0].transfer(operations.address, "1 ether")
    store_url = (f"sqlite:///{tmp_path / 'outbox.db'}" if store == "sqlite"
                 else request.getfixturevalue("postgres_url"))
    files = write_oracle_files(tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id,
                               accounts[9].address, store={"url": store_url}, operations={"keystore": "ops.json"})
    (files.directory / "ops.json").write_text(json.dumps(Account.encrypt(key, PASSWORD)))
    first = web3.eth.get_transaction_count(operations.address)
    count = 8
    start_at = time.time() + 3  # both processes are past their imports by then
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.integration.ops_sending_process", str(files.config_path),
                          str(count), accounts[1].address, tag, str(start_at)],
                         env={**os.environ, **files.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("relay", "work")
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    assert [r["errors"] for r in results] == [[], []]
    nonces = sorted(results[0]["nonces"] + results[1]["nonces"])
    assert nonces == list(range(first, first + 2 * count))
    assert web3.eth.get_transaction_count(operations.address) == first + 2 * count
